using DigitNet.Kernels;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Kernels;

/// <summary>
/// im2col and col2im for 3x3 windows with padding 1 on planes 4 or 8 pixels wide, which use one
/// vector per image row, against a naive reference; heights differ from widths on purpose.
/// </summary>
public sealed class Im2ColRowVectorTests
{
    /// <summary>(C, H, W) of planes that take the row-vector path.</summary>
    public static TheoryData<int, int, int> Planes() => new()
    {
        { 1, 8, 8 },
        { 3, 5, 8 },
        { 2, 1, 8 },
        { 2, 4, 4 },
        { 1, 7, 4 },
        { 16, 8, 8 },
    };

    private static ConvGeometry Geometry(int c, int h, int w) => new(c, h, w, 3, 3, 1, 1, 1, 1);

    [Theory]
    [MemberData(nameof(Planes))]
    public void Fill_MatchesNaiveInsideWiderMatrix(int c, int h, int w)
    {
        var g = Geometry(c, h, w);
        int plane = h * w, ldcol = 3 * plane + 5, offset = plane;
        var x = new float[c * plane];
        GradientCheck.Fill(x, new RandomSource(51));
        var col = new float[g.ColumnRows * ldcol];
        Array.Fill(col, float.NaN);

        Im2Col.Fill(x, g, col.AsSpan(offset), ldcol);

        for (int row = 0; row < g.ColumnRows; row++)
        {
            for (int i = 0; i < ldcol; i++)
            {
                float actual = col[row * ldcol + i];
                if (i < offset || i >= offset + plane)
                {
                    Assert.True(float.IsNaN(actual), $"{g}: row {row}, column {i} outside the sample's block was written");
                    continue;
                }
                float expected = NaiveColumn(x, g, row, i - offset);
                Assert.True(expected == actual, $"{g}: row {row}, output pixel {i - offset} is {actual}, expected {expected}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Planes))]
    public void Accumulate_AddsAdjointToExistingValues(int c, int h, int w)
    {
        var g = Geometry(c, h, w);
        int plane = h * w, ldcol = 2 * plane + 3, offset = 3;
        var random = new RandomSource(52);
        var col = new float[g.ColumnRows * ldcol];
        GradientCheck.Fill(col, random);
        var dx = new float[c * plane];
        GradientCheck.Fill(dx, random);
        double[] expected = GradientCheck.ToDouble(dx);
        for (int row = 0; row < g.ColumnRows; row++)
        {
            for (int p = 0; p < plane; p++)
            {
                int source = NaiveSourceIndex(g, row, p);
                if (source >= 0) expected[source] += col[row * ldcol + offset + p];
            }
        }

        Im2Col.Accumulate(col.AsSpan(offset), ldcol, g, dx);

        Assertions.AllClose(expected, dx, 1e-5, 1e-5, $"col2im of {g} onto existing values");
    }

    /// <summary>The input element that column row <paramref name="row"/> reads at output pixel <paramref name="p"/>, or -1 for padding.</summary>
    private static int NaiveSourceIndex(in ConvGeometry g, int row, int p)
    {
        int c = row / 9, ky = row / 3 % 3, kx = row % 3;
        int iy = p / g.Width + ky - 1, ix = p % g.Width + kx - 1;
        if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) return -1;
        return (c * g.Height + iy) * g.Width + ix;
    }

    private static float NaiveColumn(float[] x, in ConvGeometry g, int row, int p)
    {
        int source = NaiveSourceIndex(g, row, p);
        return source < 0 ? 0f : x[source];
    }
}
