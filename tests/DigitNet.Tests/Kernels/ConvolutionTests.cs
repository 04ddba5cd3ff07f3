using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Kernels;

/// <summary>Naive double-precision references for convolution, shared by kernel and layer tests.</summary>
public static class NaiveConvolution
{
    /// <summary>
    /// <c>y[n, o, oy, ox] = b[o] + sum over c, ky, kx of w[o, c, ky, kx] * x[n, c, oy*S - P + ky, ox*S - P + kx]</c>,
    /// with zeros outside x. x: <c>[N, C, H, W]</c>, w: <c>[OUT, C, KH, KW]</c>, b: <c>[OUT]</c> or null.
    /// </summary>
    public static double[] Forward(double[] x, double[] w, double[]? b, int batch, int outChannels, ConvGeometry g)
    {
        var y = new double[batch * outChannels * g.OutputPlaneSize];
        for (int n = 0; n < batch; n++)
        for (int o = 0; o < outChannels; o++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            double sum = b is null ? 0 : b[o];
            for (int c = 0; c < g.Channels; c++)
            for (int ky = 0; ky < g.KernelHeight; ky++)
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                int iy = oy * g.StrideHeight - g.PadHeight + ky;
                int ix = ox * g.StrideWidth - g.PadWidth + kx;
                if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                sum += w[((o * g.Channels + c) * g.KernelHeight + ky) * g.KernelWidth + kx]
                    * x[((n * g.Channels + c) * g.Height + iy) * g.Width + ix];
            }
            y[((n * outChannels + o) * g.OutHeight + oy) * g.OutWidth + ox] = sum;
        }
        return y;
    }
}

public sealed class ConvolutionTests
{
    /// <summary>(batch, C, H, W, OUT, KH, KW, stride, pad) cases, non-square inputs and kernels included.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int, int> Cases() => new()
    {
        { 1, 1, 16, 16, 4, 5, 5, 1, 2 },
        { 3, 2, 7, 5, 3, 3, 3, 1, 1 },
        { 2, 3, 9, 6, 5, 3, 3, 2, 0 },
        { 4, 1, 8, 8, 2, 3, 3, 2, 1 },
        { 2, 4, 6, 9, 3, 3, 2, 1, 2 },
        { 1, 5, 5, 5, 7, 1, 1, 1, 0 },
        { 17, 3, 5, 4, 6, 2, 3, 1, 1 },
    };

    private static Conv2D BuildLayer(int c, int h, int w, int outChannels, int kh, int kw, int stride, int pad, bool bias, RandomSource random)
    {
        var layer = new Conv2D("conv1", new TensorShape(c, h, w), outChannels, kh, kw, stride, pad, bias);
        GradientCheck.Fill(layer.Weight.Value, random);
        if (layer.Bias is { } b) GradientCheck.Fill(b.Value, random);
        return layer;
    }

    private static double[] Reference(Conv2D layer, Tensor x) => NaiveConvolution.Forward(
        GradientCheck.ToDouble(x.Span), GradientCheck.ToDouble(layer.Weight.Value),
        layer.Bias is null ? null : GradientCheck.ToDouble(layer.Bias.Value),
        x.Shape[0], layer.OutputShape[0], layer.Geometry);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesNaive(int batch, int c, int h, int w, int outChannels, int kh, int kw, int stride, int pad)
    {
        var random = new RandomSource(21);
        var layer = BuildLayer(c, h, w, outChannels, kh, kw, stride, pad, bias: true, random);
        var x = GradientCheck.RandomTensor(new TensorShape(batch, c, h, w), random);

        var y = layer.Forward(x, training: false);

        Assertions.AllClose(Reference(layer, x), y.Span, 1e-5, 1e-5, $"conv forward {layer.Geometry}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesNaiveInChunksWithThreads(int batch, int c, int h, int w, int outChannels, int kh, int kw, int stride, int pad)
    {
        // A budget of one sample's column block forces one chunk per sample.
        var random = new RandomSource(22);
        var layer = BuildLayer(c, h, w, outChannels, kh, kw, stride, pad, bias: false, random);
        using var workers = new WorkerPool(2);
        layer.Workers = workers;
        layer.ColumnBudget = layer.Geometry.ColumnRows * layer.Geometry.OutputPlaneSize;
        var x = GradientCheck.RandomTensor(new TensorShape(batch, c, h, w), random);

        var y = layer.Forward(x, training: true);

        Assertions.AllClose(Reference(layer, x), y.Span, 1e-5, 1e-5, $"chunked conv forward {layer.Geometry}");
    }

    [Fact]
    public void ScatterAndGatherRoundTrip()
    {
        // Channel-major [OUT=3, N=2 * P=4]: sample 1 sits in columns 4..7 of every row.
        float[] channelMajor = [.. Enumerable.Range(0, 24).Select(i => (float)i)];
        var sample = new float[12];
        Convolution.ScatterSample(channelMajor, 8, 1, 4, [100f, 200f, 300f], sample);
        Assert.Equal([104f, 105, 106, 107, 212, 213, 214, 215, 320, 321, 322, 323], sample);

        var back = new float[24];
        Convolution.ScatterSample(channelMajor, 8, 1, 4, default, sample);
        Convolution.GatherSample(sample, 4, 1, back, 8);
        for (int o = 0; o < 3; o++)
        {
            Assert.Equal(channelMajor.AsSpan(o * 8 + 4, 4).ToArray(), back.AsSpan(o * 8 + 4, 4).ToArray());
            Assert.All(back.AsSpan(o * 8, 4).ToArray(), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void ScatterRejectsSampleOutsideMatrix()
    {
        var error = Assert.Throws<ArgumentException>(() => Convolution.ScatterSample(new float[24], 8, 2, 4, default, new float[12]));
        Assert.Contains("does not fit", error.Message);
    }
}
