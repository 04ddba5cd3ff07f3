using SkiaSharp;

namespace DigitNet.Cli.Plotting;

/// <summary>Colours shared by the charts.</summary>
public static class PlotColors
{
    /// <summary>
    /// Ten series colours that stay distinguishable for common colour-vision deficiencies (the
    /// Tableau 10 palette); series beyond ten reuse them in order.
    /// </summary>
    public static IReadOnlyList<SKColor> Series { get; } =
    [
        new(0x4E, 0x79, 0xA7), new(0xF2, 0x8E, 0x2B), new(0xE1, 0x57, 0x59), new(0x76, 0xB7, 0xB2), new(0x59, 0xA1, 0x4F),
        new(0xED, 0xC9, 0x48), new(0xB0, 0x7A, 0xA1), new(0xFF, 0x9D, 0xA7), new(0x9C, 0x75, 0x5F), new(0xBA, 0xB0, 0xAC),
    ];

    public static SKColor Text { get; } = new(0x22, 0x22, 0x22);
    public static SKColor Axis { get; } = new(0x55, 0x55, 0x55);
    public static SKColor Grid { get; } = new(0xE4, 0xE4, 0xE4);
    public static SKColor Highlight { get; } = new(0xC6, 0x28, 0x28);

    /// <summary>The series colour for index <paramref name="i"/>.</summary>
    public static SKColor ForSeries(int i) => Series[i % Series.Count];

    /// <summary>Maps <paramref name="t"/> in [0, 1] from white to dark blue (a sequential scale for heatmaps).</summary>
    public static SKColor Sequential(double t)
    {
        t = Math.Clamp(double.IsNaN(t) ? 0 : t, 0, 1);
        // Piecewise-linear through white, light blue and dark blue keeps low values readable.
        (double r, double g, double b) low = (255, 255, 255), mid = (107, 174, 214), high = (8, 48, 107);
        var (from, to, u) = t < 0.5 ? (low, mid, t * 2) : (mid, high, (t - 0.5) * 2);
        return new SKColor(
            (byte)Math.Round(from.r + (to.r - from.r) * u),
            (byte)Math.Round(from.g + (to.g - from.g) * u),
            (byte)Math.Round(from.b + (to.b - from.b) * u));
    }

    /// <summary>Black or white, whichever reads better on <paramref name="background"/>.</summary>
    public static SKColor TextOn(SKColor background)
    {
        double luminance = 0.299 * background.Red + 0.587 * background.Green + 0.114 * background.Blue;
        return luminance > 140 ? Text : SKColors.White;
    }
}
