using System.Diagnostics;

namespace DigitNet.Benchmarks;

/// <summary>Wall-clock timing of a repeated call, robust to a machine shared with other work.</summary>
internal static class Timing
{
    /// <summary>
    /// Returns the number of calls of <paramref name="action"/> that take about
    /// <paramref name="targetSeconds"/>, at least one, after one warm-up call.
    /// </summary>
    public static int CallsFor(Action action, double targetSeconds)
    {
        action();
        long start = Stopwatch.GetTimestamp();
        action();
        double once = Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-7);
        return (int)Math.Clamp(targetSeconds / once, 1, 1_000_000);
    }

    /// <summary>Returns the mean seconds per call over <paramref name="calls"/> calls.</summary>
    public static double SecondsPerCall(Action action, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++)
            action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
    }
}
