using DigitNet.Layers;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Layers;

public sealed class DropoutTests(ITestOutputHelper output)
{
    private const double P = 0.3;
    private static readonly float KeepScale = (float)(1 / (1 - P));

    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 17)]
    [InlineData(7, 33)]
    public void TrainingGradientIsMaskedDy(int batch, int features)
    {
        var random = new RandomSource(21, (ulong)(batch * 100 + features));
        var layer = new Dropout("dropout1", new TensorShape(features), P) { Random = new RandomSource(22) };
        var x = GradientCheck.RandomTensor(new TensorShape(batch, features), random, 0.5, 1.5);
        var dy = GradientCheck.RandomTensor(new TensorShape(batch, features), random);

        float[] y = layer.Forward(x, training: true).Span.ToArray();
        float[] dx = layer.Backward(dy)!.Span.ToArray();

        // x is at least 0.5, so an element was dropped exactly when its output is 0.
        var xs = x.Span;
        var dys = dy.Span;
        for (int i = 0; i < y.Length; i++)
        {
            float mask = y[i] == 0 ? 0 : KeepScale;
            Assert.True(y[i] == xs[i] * mask, $"y[{i}] = {y[i]}, expected x * mask = {xs[i]} * {mask}");
            Assert.True(dx[i] == dys[i] * mask, $"dx[{i}] = {dx[i]}, expected dy * mask = {dys[i]} * {mask}");
        }
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(7, 33)]
    public void GradientsMatchReference(int batch, int features)
    {
        var random = new RandomSource(23);
        var layer = new Dropout("dropout1", new TensorShape(features), P) { Random = new RandomSource(24) };
        var x = GradientCheck.RandomTensor(new TensorShape(batch, features), random, 0.5, 1.5);

        // The reference applies the mask that the layer's forward pass drew, which MaskOf reads back.
        double[]? mask = null;
        var report = GradientCheck.CheckLayer(layer, x, (xd, _) =>
        {
            mask ??= MaskOf(layer, x);
            return xd.Select((v, i) => v * mask[i]).ToArray();
        }, random, training: true);

        output.WriteLine($"dropout [{features}], batch {batch}: max error {report.MaxError:E2}");
        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    [Fact]
    public void InferenceIsIdentity()
    {
        var random = new RandomSource(25);
        var layer = new Dropout("dropout1", new TensorShape(17), P) { Random = new RandomSource(26) };
        var x = GradientCheck.RandomTensor(new TensorShape(3, 17), random);
        var dy = GradientCheck.RandomTensor(new TensorShape(3, 17), random);
        float[] expectedY = x.Span.ToArray();
        float[] expectedDx = dy.Span.ToArray();

        float[] y = layer.Forward(x, training: false).Span.ToArray();
        float[] dx = layer.Backward(dy)!.Span.ToArray();

        Assert.Equal(expectedY, y);
        Assert.Equal(expectedDx, dx);
    }

    [Fact]
    public void ZeroProbabilityIsIdentityInTraining()
    {
        var random = new RandomSource(27);
        var layer = new Dropout("dropout1", new TensorShape(17), 0);
        var x = GradientCheck.RandomTensor(new TensorShape(3, 17), random);
        float[] expected = x.Span.ToArray();

        float[] y = layer.Forward(x, training: true).Span.ToArray();

        Assert.Equal(expected, y);
    }

    [Fact]
    public void DroppedFractionIsNearProbability()
    {
        const int size = 100_000;
        var layer = new Dropout("dropout1", new TensorShape(size), P) { Random = new RandomSource(28) };
        var x = new Tensor(new TensorShape(1, size));
        x.Span.Fill(1);

        float[] y = layer.Forward(x, training: true).Span.ToArray();

        // The standard deviation of the fraction is sqrt(p (1 - p) / size), about 0.0015, so the
        // bound below is about 7 of them.
        double dropped = y.Count(v => v == 0) / (double)size;
        Assert.InRange(dropped, P - 0.01, P + 0.01);
        Assert.All(y, v => Assert.True(v == 0 || v == KeepScale, $"output {v} is neither 0 nor 1/(1-p)"));
    }

    [Fact]
    public void SameSeedGivesSameMask()
    {
        var x = new Tensor(new TensorShape(4, 50));
        x.Span.Fill(1);
        var first = new Dropout("dropout1", new TensorShape(50), P) { Random = new RandomSource(29) };
        var second = new Dropout("dropout1", new TensorShape(50), P) { Random = new RandomSource(29) };
        var other = new Dropout("dropout1", new TensorShape(50), P) { Random = new RandomSource(30) };

        float[] a = first.Forward(x, training: true).Span.ToArray();
        float[] b = second.Forward(x, training: true).Span.ToArray();
        float[] c = other.Forward(x, training: true).Span.ToArray();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void ConsecutiveBatchesDrawNewMasks()
    {
        var layer = new Dropout("dropout1", new TensorShape(50), P) { Random = new RandomSource(31) };
        var x = new Tensor(new TensorShape(4, 50));
        x.Span.Fill(1);

        float[] first = layer.Forward(x, training: true).Span.ToArray();
        float[] second = layer.Forward(x, training: true).Span.ToArray();

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void TrainingWithoutRandomThrows()
    {
        var layer = new Dropout("dropout2", new TensorShape(3), P);

        var error = Assert.Throws<InvalidOperationException>(() => layer.Forward(new Tensor(new TensorShape(1, 3)), training: true));
        Assert.Contains("dropout2", error.Message);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void InvalidProbabilityThrows(double probability)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout("dropout1", new TensorShape(3), probability));
    }

    private static double[] MaskOf(Dropout layer, Tensor x)
    {
        // A second forward pass would draw a new mask, but backward with dy = 1 returns the mask of
        // the last one. CheckLayer has copied dx before it calls the reference, so this is safe there.
        var ones = new Tensor(x.Shape);
        ones.Span.Fill(1);
        return GradientCheck.ToDouble(layer.Backward(ones)!.Span);
    }
}
