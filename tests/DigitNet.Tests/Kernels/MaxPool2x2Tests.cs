using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Tests.Kernels;

/// <summary>
/// The 2x2 stride-2 max pooling paths (vectorised for planes 4, 8 and at least 16 pixels wide,
/// scalar for the rest) pick exactly the element the scalar rule picks: the first maximum in
/// row-major window order, or the first NaN. The data has many ties and some NaN to exercise that.
/// </summary>
public sealed class MaxPool2x2Tests
{
    /// <summary>(H, W): widths of each path, odd heights, and widths with a scalar remainder.</summary>
    public static TheoryData<int, int> Planes() => new()
    {
        { 2, 2 },
        { 4, 4 },
        { 6, 4 },
        { 5, 4 },
        { 8, 8 },
        { 9, 8 },
        { 16, 16 },
        { 7, 18 },
        { 3, 34 },
        { 4, 6 },
    };

    [Theory]
    [MemberData(nameof(Planes))]
    public void MatchesScalarRule(int height, int width)
    {
        var g = new ConvGeometry(1, height, width, 2, 2, 2, 2, 0, 0);
        var random = new RandomSource((ulong)(height * 100 + width));
        foreach (double nanFraction in new[] { 0.0, 0.1 })
        {
            var x = new float[height * width];
            for (int i = 0; i < x.Length; i++)
            {
                // Three distinct values make ties in most windows.
                x[i] = random.NextDouble() < nanFraction ? float.NaN : random.NextInt(3);
            }
            var y = new float[g.OutputPlaneSize];
            var argmax = new int[y.Length];

            Pooling.MaxForward(x, g, y, argmax);

            for (int o = 0; o < y.Length; o++)
            {
                int expected = FirstMaximum(x, width, o / g.OutWidth, o % g.OutWidth);
                Assert.True(expected == argmax[o],
                    $"{height}x{width} plane, NaN fraction {nanFraction}: window {o} chose element {argmax[o]}, expected {expected}");
                Assert.Equal(x[expected], y[o]);
            }
        }
    }

    /// <summary>The index of the first NaN of the window, else of its first maximum, in row-major order.</summary>
    private static int FirstMaximum(float[] x, int width, int oy, int ox)
    {
        int[] window = [2 * oy * width + 2 * ox, 2 * oy * width + 2 * ox + 1, (2 * oy + 1) * width + 2 * ox, (2 * oy + 1) * width + 2 * ox + 1];
        foreach (int index in window)
        {
            if (float.IsNaN(x[index]))
                return index;
        }
        int best = window[0];
        foreach (int index in window)
        {
            if (x[index] > x[best])
                best = index;
        }
        return best;
    }
}
