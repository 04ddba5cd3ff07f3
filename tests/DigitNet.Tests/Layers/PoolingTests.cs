using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Tests.Kernels;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Layers;

public sealed class PoolingTests(ITestOutputHelper output)
{
    /// <summary>(batch, C, H, W, K, stride, pad): non-overlapping, overlapping, padded, non-square.</summary>
    public static TheoryData<int, int, int, int, int, int, int> Cases() => new()
    {
        { 2, 1, 4, 4, 2, 2, 0 },
        { 3, 2, 5, 7, 2, 2, 0 },
        { 2, 3, 6, 5, 3, 1, 0 },
        { 2, 2, 7, 7, 3, 2, 1 },
        { 1, 4, 9, 6, 4, 3, 2 },
    };

    /// <summary>Applies a per-plane reference to every plane of <c>[N, C, H, W]</c>.</summary>
    private static double[] PerPlane(double[] x, int planes, ConvGeometry g, Func<double[], ConvGeometry, double[]> pool)
    {
        var y = new double[planes * g.OutputPlaneSize];
        for (int p = 0; p < planes; p++)
            pool(x[(p * g.InputPlaneSize)..((p + 1) * g.InputPlaneSize)], g).CopyTo(y, p * g.OutputPlaneSize);
        return y;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MaxPoolGradientCheck(int batch, int c, int h, int w, int k, int stride, int pad)
    {
        var random = new RandomSource(41);
        var layer = new MaxPool2D("maxpool1", new TensorShape(c, h, w), k, stride, pad);
        using var workers = new WorkerPool(2);
        layer.Workers = workers;
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(batch, c, h, w), random);

        var report = TestUtil.GradientCheck.CheckLayer(layer, x,
            (xd, _) => PerPlane(xd, batch * c, layer.Geometry, (plane, g) => NaivePooling.Max(plane, g)), random, training: true);

        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AvgPoolGradientCheck(int batch, int c, int h, int w, int k, int stride, int pad)
    {
        var random = new RandomSource(42);
        var layer = new AvgPool2D("avgpool1", new TensorShape(c, h, w), k, stride, pad);
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(batch, c, h, w), random);

        var report = TestUtil.GradientCheck.CheckLayer(layer, x,
            (xd, _) => PerPlane(xd, batch * c, layer.Geometry, (plane, g) => NaivePooling.Average(plane, g)), random, training: true);

        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(3, 4, 5, 3)]
    [InlineData(2, 8, 4, 4)]
    public void GlobalAveragePoolGradientCheck(int batch, int c, int h, int w)
    {
        var random = new RandomSource(43);
        var layer = new GlobalAveragePool("gap1", new TensorShape(c, h, w));
        using var workers = new WorkerPool(2);
        layer.Workers = workers;
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(batch, c, h, w), random);

        var report = TestUtil.GradientCheck.CheckLayer(layer, x, (xd, _) =>
        {
            var y = new double[batch * c];
            for (int p = 0; p < y.Length; p++) y[p] = xd.AsSpan(p * h * w, h * w).ToArray().Average();
            return y;
        }, random, training: true);

        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    [Theory]
    [InlineData("max")]
    [InlineData("avg")]
    public void ThreadedPoolingMatchesInline(string kind)
    {
        // 35 planes over 3 threads split into chunks of 2 planes, the last one short.
        var shape = new TensorShape(7, 6, 6);
        Pool2D Create() => kind == "max" ? new MaxPool2D("pool1", shape, 2) : new AvgPool2D("pool1", shape, 3, 2, 1);
        var random = new RandomSource(45);
        var inline = Create();
        var threaded = Create();
        using var workers = new WorkerPool(3);
        threaded.Workers = workers;
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(5, 7, 6, 6), random);
        var dy = TestUtil.GradientCheck.RandomTensor(new TensorShape(5, inline.OutputShape[0], inline.OutputShape[1], inline.OutputShape[2]), random);

        float[] expectedY = inline.Forward(x, training: true).Span.ToArray();
        float[] expectedDx = inline.Backward(dy)!.Span.ToArray();
        float[] y = threaded.Forward(x, training: true).Span.ToArray();
        float[] dx = threaded.Backward(dy)!.Span.ToArray();

        Assert.Equal(expectedY, y);
        Assert.Equal(expectedDx, dx);
    }

    [Fact]
    public void MaxPoolBackwardOverwritesInputGradient()
    {
        var random = new RandomSource(44);
        var layer = new MaxPool2D("maxpool1", new TensorShape(2, 4, 4), 2);
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(3, 2, 4, 4), random);
        var dy = TestUtil.GradientCheck.RandomTensor(new TensorShape(3, 2, 2, 2), random);

        layer.Forward(x, training: true);
        float[] first = layer.Backward(dy)!.Span.ToArray();
        float[] second = layer.Backward(dy)!.Span.ToArray();

        Assert.Equal(first, second);
    }

    [Fact]
    public void MaxPoolOutputShapeFloorsPartialWindows()
    {
        var layer = new MaxPool2D("maxpool1", new TensorShape(3, 7, 5), 2);
        Assert.Equal(new TensorShape(3, 3, 2), layer.OutputShape);
    }

    [Theory]
    [InlineData("maxpool 2", typeof(MaxPool2D), 2, 2, 0)]
    [InlineData("maxpool 3 stride=2 pad=1", typeof(MaxPool2D), 3, 2, 1)]
    [InlineData("avgpool 2 stride=1", typeof(AvgPool2D), 2, 1, 0)]
    public void FactoryParsesPooling(string text, Type type, int size, int stride, int pad)
    {
        var layer = LayerFactory.Create(LayerSpec.Parse(text), "pool1", new TensorShape(2, 8, 8));
        Assert.IsType(type, layer);
        var g = layer is MaxPool2D max ? max.Geometry : ((AvgPool2D)layer).Geometry;
        Assert.Equal(size, g.KernelHeight);
        Assert.Equal(stride, g.StrideHeight);
        Assert.Equal(pad, g.PadHeight);
    }

    [Fact]
    public void FactoryBuildsGlobalAveragePool()
    {
        var layer = LayerFactory.Create(LayerSpec.Parse("gap"), "gap1", new TensorShape(64, 4, 4));
        Assert.IsType<GlobalAveragePool>(layer);
        Assert.Equal(new TensorShape(64), layer.OutputShape);
    }

    [Theory]
    [InlineData("maxpool 2 pad=2", "padding 2")]
    [InlineData("maxpool 9", "larger than the padded input")]
    [InlineData("avgpool", "needs argument 1")]
    public void FactoryRejectsBadPooling(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => LayerFactory.Create(LayerSpec.Parse(text), "pool1", new TensorShape(1, 8, 8)));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void PoolingRejectsVectorInput()
    {
        var error = Assert.Throws<FormatException>(() => LayerFactory.Create(LayerSpec.Parse("maxpool 2"), "maxpool1", new TensorShape(64)));
        Assert.Contains("[C, H, W]", error.Message);
    }
}
