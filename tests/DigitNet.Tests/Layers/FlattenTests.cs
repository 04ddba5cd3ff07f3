using DigitNet.Layers;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Layers;

public sealed class FlattenTests
{
    [Fact]
    public void ForwardKeepsRowMajorOrder()
    {
        var layer = new Flatten("flatten1", new TensorShape(2, 3, 4));
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(5, 2, 3, 4), new RandomSource(51));

        var y = layer.Forward(x, training: true);

        Assert.Equal(new TensorShape(5, 24), y.Shape);
        Assert.Equal(x.Span.ToArray(), y.Span.ToArray());
    }

    [Fact]
    public void BackwardRestoresInputShape()
    {
        var layer = new Flatten("flatten1", new TensorShape(2, 3, 4));
        var random = new RandomSource(52);
        layer.Forward(TestUtil.GradientCheck.RandomTensor(new TensorShape(5, 2, 3, 4), random), training: true);
        var dy = TestUtil.GradientCheck.RandomTensor(new TensorShape(5, 24), random);

        var dx = layer.Backward(dy)!;

        Assert.Equal(new TensorShape(5, 2, 3, 4), dx.Shape);
        Assert.Equal(dy.Span.ToArray(), dx.Span.ToArray());
    }

    [Fact]
    public void GradientsMatch()
    {
        var random = new RandomSource(53);
        var layer = new Flatten("flatten1", new TensorShape(3, 2, 2));
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(4, 3, 2, 2), random);

        var report = TestUtil.GradientCheck.CheckLayer(layer, x, (xd, _) => (double[])xd.Clone(), random, training: true);

        report.AssertPassed();
    }

    [Fact]
    public void ViewFollowsSmallerBatch()
    {
        var layer = new Flatten("flatten1", new TensorShape(1, 2, 2));
        var buffer = new Tensor(new TensorShape(6, 1, 2, 2));
        layer.Forward(buffer, training: false);
        buffer.Reshape(new TensorShape(2, 1, 2, 2));
        buffer.Span.Fill(3f);

        var y = layer.Forward(buffer, training: false);

        Assert.Equal(new TensorShape(2, 4), y.Shape);
        Assert.All(y.Span.ToArray(), v => Assert.Equal(3f, v));
    }

    [Fact]
    public void NoInputGradientReturnsNull()
    {
        var layer = new Flatten("flatten1", new TensorShape(2, 2)) { ComputesInputGradient = false };
        layer.Forward(new Tensor(new TensorShape(1, 2, 2)), training: true);

        Assert.Null(layer.Backward(new Tensor(new TensorShape(1, 4))));
    }

    [Fact]
    public void FactoryBuildsFlatten()
    {
        var layer = LayerFactory.Create(LayerSpec.Parse("flatten"), "flatten1", new TensorShape(64, 2, 2));
        Assert.IsType<Flatten>(layer);
        Assert.Equal(new TensorShape(256), layer.OutputShape);
    }
}
