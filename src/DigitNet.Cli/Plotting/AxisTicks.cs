using System.Globalization;

namespace DigitNet.Cli.Plotting;

/// <summary>Tick positions at round numbers (1, 2 or 5 times a power of ten) for a numeric axis.</summary>
public static class AxisTicks
{
    /// <summary>
    /// Returns about <paramref name="target"/> round tick values covering [<paramref name="min"/>,
    /// <paramref name="max"/>], with the axis range widened to the outer ticks. A
    /// <paramref name="minimumStep"/> of 1 keeps ticks on whole numbers.
    /// </summary>
    public static (double Min, double Max, IReadOnlyList<double> Ticks) Nice(double min, double max, int target = 6, double minimumStep = 0)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max))
            throw new ArgumentException($"axis range must be finite, got [{min}, {max}]");
        if (max < min) (min, max) = (max, min);
        if (max - min < 1e-12 * Math.Max(1, Math.Abs(max)))
        {
            // A flat series still needs a visible range around its value.
            double pad = Math.Abs(min) > 0 ? Math.Abs(min) * 0.05 : 1;
            min -= pad;
            max += pad;
        }

        double step = Math.Max(minimumStep, NiceStep((max - min) / Math.Max(1, target - 1)));
        double first = Math.Floor(min / step) * step;
        double last = Math.Ceiling(max / step) * step;
        var ticks = new List<double>();
        for (int i = 0; ; i++)
        {
            double tick = first + i * step;
            if (tick > last + step * 1e-9) break;
            // Snap values like 0.30000000000000004 to the decimal they stand for.
            ticks.Add(Math.Round(tick / step) * step);
        }
        return (first, last, ticks);
    }

    /// <summary>Formats tick values with just enough decimals to tell neighbours apart.</summary>
    public static string Format(double value, IReadOnlyList<double> ticks)
    {
        double step = ticks.Count > 1 ? Math.Abs(ticks[1] - ticks[0]) : Math.Abs(value);
        int decimals = step > 0 ? Math.Clamp((int)Math.Ceiling(-Math.Log10(step) - 1e-9), 0, 8) : 0;
        if (Math.Abs(value) < step * 1e-9) value = 0;
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double fraction = rough / power;
        double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        return nice * power;
    }
}
