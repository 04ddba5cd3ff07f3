using DigitNet.Kernels;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Kernels;

/// <summary>Naive double-precision pooling of one <c>[H, W]</c> plane, shared by kernel and layer tests.</summary>
public static class NaivePooling
{
    /// <summary>Maximum over each window, skipping padding.</summary>
    public static double[] Max(ReadOnlySpan<double> x, ConvGeometry g) => Pool(x, g, average: false);

    /// <summary>Sum over each window divided by <c>KH * KW</c> (padding counts as zeros).</summary>
    public static double[] Average(ReadOnlySpan<double> x, ConvGeometry g) => Pool(x, g, average: true);

    private static double[] Pool(ReadOnlySpan<double> x, ConvGeometry g, bool average)
    {
        var y = new double[g.OutputPlaneSize];
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int ky = 0; ky < g.KernelHeight; ky++)
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                int iy = oy * g.StrideHeight - g.PadHeight + ky;
                int ix = ox * g.StrideWidth - g.PadWidth + kx;
                if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                double v = x[iy * g.Width + ix];
                max = Math.Max(max, v);
                sum += v;
            }
            y[oy * g.OutWidth + ox] = average ? sum / (g.KernelHeight * g.KernelWidth) : max;
        }
        return y;
    }
}

public sealed class PoolingTests
{
    /// <summary>(H, W, K, stride, pad): non-overlapping, overlapping, strided past the edge, padded, non-square inputs.</summary>
    public static TheoryData<int, int, int, int, int> Geometries() => new()
    {
        { 1, 1, 1, 1, 0 },
        { 4, 4, 2, 2, 0 },
        { 5, 7, 2, 2, 0 },
        { 6, 5, 3, 1, 0 },
        { 7, 7, 3, 2, 1 },
        { 8, 3, 3, 3, 1 },
        { 16, 16, 2, 2, 0 },
        { 9, 11, 4, 3, 2 },
    };

    private static ConvGeometry Make(int h, int w, int k, int stride, int pad) => new(1, h, w, k, k, stride, stride, pad, pad);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxForwardMatchesNaive(int h, int w, int k, int stride, int pad)
    {
        var g = Make(h, w, k, stride, pad);
        var x = new float[h * w];
        GradientCheck.Fill(x, new RandomSource(31));
        var y = new float[g.OutputPlaneSize];
        var argmax = new int[y.Length];

        Pooling.MaxForward(x, g, y, argmax);

        Assertions.AllClose(NaivePooling.Max(GradientCheck.ToDouble(x), g), y, 1e-5, 1e-5, $"max pool {g}");
        for (int i = 0; i < y.Length; i++) Assert.Equal(y[i], x[argmax[i]]);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AverageForwardMatchesNaive(int h, int w, int k, int stride, int pad)
    {
        var g = Make(h, w, k, stride, pad);
        var x = new float[h * w];
        GradientCheck.Fill(x, new RandomSource(32));
        var y = new float[g.OutputPlaneSize];

        Pooling.AverageForward(x, g, y);

        Assertions.AllClose(NaivePooling.Average(GradientCheck.ToDouble(x), g), y, 1e-5, 1e-5, $"average pool {g}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AverageBackwardIsAdjointOfForward(int h, int w, int k, int stride, int pad)
    {
        var g = Make(h, w, k, stride, pad);
        var random = new RandomSource(33);
        var x = new float[h * w];
        var dy = new float[g.OutputPlaneSize];
        GradientCheck.Fill(x, random);
        GradientCheck.Fill(dy, random);
        var y = new float[dy.Length];
        var dx = new float[x.Length];

        Pooling.AverageForward(x, g, y);
        Pooling.AverageBackward(dy, g, dx);

        double left = 0, right = 0;
        for (int i = 0; i < y.Length; i++) left += (double)y[i] * dy[i];
        for (int i = 0; i < x.Length; i++) right += (double)x[i] * dx[i];
        Assert.True(Math.Abs(left - right) <= 1e-5 * (1 + Math.Abs(left)), $"<avgpool(x), dy> = {left}, <x, avgpool'(dy)> = {right}");
    }

    // Stride 2 takes the dedicated 2x2 path and stride 1 the general one; both see one window here.
    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public void MaxTiesGoToFirstElement(int stride)
    {
        var g = Make(2, 2, 2, stride, 0);
        float[] x = [3f, 3f, 3f, 1f];
        var y = new float[1];
        var argmax = new int[1];

        Pooling.MaxForward(x, g, y, argmax);

        Assert.Equal(0, argmax[0]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public void MaxPropagatesNaN(int stride)
    {
        var g = Make(2, 2, 2, stride, 0);
        float[] x = [1f, float.NaN, 5f, 2f];
        var y = new float[1];
        var argmax = new int[1];

        Pooling.MaxForward(x, g, y, argmax);

        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(1, argmax[0]);
    }

    [Fact]
    public void MaxBackwardAddsWhereWindowsShareWinner()
    {
        // Overlapping 2x2 windows with stride 1 over a plane whose centre is the largest value.
        var g = Make(3, 3, 2, 1, 0);
        float[] x = [0, 0, 0, 0, 9, 0, 0, 0, 0];
        var y = new float[4];
        var argmax = new int[4];
        Pooling.MaxForward(x, g, y, argmax);
        var dx = new float[9];

        Pooling.MaxBackward([1f, 2f, 3f, 4f], argmax, dx);

        Assert.Equal([0f, 0, 0, 0, 10, 0, 0, 0, 0], dx);
    }

    [Fact]
    public void RejectsPaddingAsLargeAsWindow()
    {
        var g = Make(4, 4, 2, 2, 2);
        var error = Assert.Throws<ArgumentException>(() => Pooling.AverageForward(new float[16], g, new float[g.OutputPlaneSize]));
        Assert.Contains("padding must be smaller than the window", error.Message);
    }
}
