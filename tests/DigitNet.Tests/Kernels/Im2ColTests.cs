using DigitNet.Kernels;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Kernels;

public sealed class Im2ColTests
{
    /// <summary>(C, H, W, KH, KW, stride, pad) cases: square and non-square, strided, padded, window as large as the input.</summary>
    public static TheoryData<int, int, int, int, int, int, int> Geometries() => new()
    {
        { 1, 1, 1, 1, 1, 1, 0 },
        { 1, 5, 5, 3, 3, 1, 0 },
        { 2, 5, 7, 3, 3, 1, 1 },
        { 3, 6, 4, 3, 3, 2, 1 },
        { 2, 7, 5, 5, 5, 1, 2 },
        { 1, 8, 9, 3, 2, 2, 0 },
        { 2, 4, 6, 2, 3, 3, 2 },
        { 1, 16, 16, 5, 5, 1, 2 },
        { 3, 3, 3, 3, 3, 1, 0 },
        { 1, 2, 3, 4, 4, 2, 2 },
        { 4, 4, 4, 3, 3, 1, 1 },
        { 2, 8, 3, 5, 3, 1, 2 },
        { 1, 1, 1, 3, 3, 1, 1 },
    };

    /// <summary>
    /// Naive im2col: <c>col[(c*KH + ky)*KW + kx, oy*OW + ox] = x[c, oy*SH - PH + ky, ox*SW - PW + kx]</c>,
    /// or 0 where that index falls outside the input.
    /// </summary>
    public static float[] NaiveFill(ReadOnlySpan<float> x, ConvGeometry g)
    {
        var col = new float[g.ColumnRows * g.OutputPlaneSize];
        for (int c = 0; c < g.Channels; c++)
        for (int ky = 0; ky < g.KernelHeight; ky++)
        for (int kx = 0; kx < g.KernelWidth; kx++)
        for (int oy = 0; oy < g.OutHeight; oy++)
        for (int ox = 0; ox < g.OutWidth; ox++)
        {
            int iy = oy * g.StrideHeight - g.PadHeight + ky;
            int ix = ox * g.StrideWidth - g.PadWidth + kx;
            bool inside = iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width;
            int row = (c * g.KernelHeight + ky) * g.KernelWidth + kx;
            col[row * g.OutputPlaneSize + oy * g.OutWidth + ox] = inside ? x[(c * g.Height + iy) * g.Width + ix] : 0;
        }
        return col;
    }

    private static ConvGeometry Make(int c, int h, int w, int kh, int kw, int stride, int pad) =>
        new(c, h, w, kh, kw, stride, stride, pad, pad);

    [Theory]
    [MemberData(nameof(Geometries))]
    public void FillMatchesNaive(int c, int h, int w, int kh, int kw, int stride, int pad)
    {
        var g = Make(c, h, w, kh, kw, stride, pad);
        var random = new RandomSource(11);
        var x = new float[c * h * w];
        GradientCheck.Fill(x, random);

        var col = new float[g.ColumnRows * g.OutputPlaneSize];
        col.AsSpan().Fill(float.NaN); // every element must be written, padding included
        Im2Col.Fill(x, g, col, g.OutputPlaneSize);

        Assertions.BitwiseEqual(NaiveFill(x, g), col, $"im2col {g}");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void FillWritesOnlyItsBlockOfWiderMatrix(int c, int h, int w, int kh, int kw, int stride, int pad)
    {
        var g = Make(c, h, w, kh, kw, stride, pad);
        var random = new RandomSource(12);
        var x = new float[c * h * w];
        GradientCheck.Fill(x, random);

        // Three samples side by side; fill the middle block and check the others stay untouched.
        int plane = g.OutputPlaneSize, ld = 3 * plane;
        var wide = new float[g.ColumnRows * ld];
        wide.AsSpan().Fill(-7f);
        Im2Col.Fill(x, g, wide.AsSpan(plane), ld);

        var expected = NaiveFill(x, g);
        for (int row = 0; row < g.ColumnRows; row++)
        {
            Assertions.BitwiseEqual(expected.AsSpan(row * plane, plane), wide.AsSpan(row * ld + plane, plane), $"row {row} of the middle block");
            Assert.All(wide.AsSpan(row * ld, plane).ToArray(), v => Assert.Equal(-7f, v));
            Assert.All(wide.AsSpan(row * ld + 2 * plane, plane).ToArray(), v => Assert.Equal(-7f, v));
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AccumulateIsAdjointOfFill(int c, int h, int w, int kh, int kw, int stride, int pad)
    {
        // col2im is the transpose of im2col: <Fill(x), col> == <x, Accumulate(col)> for any x and col.
        var g = Make(c, h, w, kh, kw, stride, pad);
        var random = new RandomSource(13);
        var x = new float[c * h * w];
        var col = new float[g.ColumnRows * g.OutputPlaneSize];
        GradientCheck.Fill(x, random);
        GradientCheck.Fill(col, random);

        var filled = NaiveFill(x, g);
        var dx = new float[x.Length];
        Im2Col.Accumulate((float[])col.Clone(), g.OutputPlaneSize, g, dx);

        double left = 0, right = 0;
        for (int i = 0; i < col.Length; i++) left += (double)filled[i] * col[i];
        for (int i = 0; i < x.Length; i++) right += (double)x[i] * dx[i];
        Assert.True(Math.Abs(left - right) <= 1e-4 * (1 + Math.Abs(left)), $"<im2col(x), col> = {left}, <x, col2im(col)> = {right}");
    }

    [Fact]
    public void AccumulateAddsToExistingValues()
    {
        var g = Make(1, 3, 3, 2, 2, 1, 0);
        var col = new float[g.ColumnRows * g.OutputPlaneSize];
        col.AsSpan().Fill(1f);
        var dx = new float[9];
        dx.AsSpan().Fill(10f);

        Im2Col.Accumulate(col, g.OutputPlaneSize, g, dx);

        // Each pixel gains the number of 2x2 windows that cover it.
        Assert.Equal([11f, 12f, 11f, 12f, 14f, 12f, 11f, 12f, 11f], dx);
    }

    [Fact]
    public void GeometryComputesOutputSize()
    {
        var g = new ConvGeometry(3, 16, 12, 5, 3, 2, 1, 2, 1);
        Assert.Equal((16 + 4 - 5) / 2 + 1, g.OutHeight);
        Assert.Equal((12 + 2 - 3) / 1 + 1, g.OutWidth);
        Assert.Equal(3 * 5 * 3, g.ColumnRows);
    }

    [Fact]
    public void GeometryRejectsWindowLargerThanPaddedInput()
    {
        var error = Assert.Throws<ArgumentException>(() => new ConvGeometry(1, 4, 4, 7, 7, 1, 1, 1, 1));
        Assert.Contains("larger than the padded input 6x6", error.Message);
    }

    [Fact]
    public void FillRejectsShortColumnSpan()
    {
        var g = Make(2, 4, 4, 3, 3, 1, 1);
        var error = Assert.Throws<ArgumentException>(() => Im2Col.Fill(new float[32], g, new float[10], g.OutputPlaneSize));
        Assert.Contains("needs", error.Message);
    }
}
