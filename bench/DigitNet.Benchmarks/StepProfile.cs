using System.Diagnostics;
using System.Globalization;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Benchmarks;

/// <summary>
/// The <c>profile</c> mode: where one training step of a benchmark network spends its time,
/// layer by layer, forward and backward, plus the loss and the optimiser update, for each
/// thread count. It shows which parts gain from a second thread and which do not.
/// </summary>
internal static class StepProfile
{
    public static int Run(ArgumentReader arguments)
    {
        string key = arguments.Text("network") ?? "cnn";
        int[] threadCounts = arguments.IntList("threads", [1, 2]);
        int steps = arguments.Int("steps", 400);
        arguments.RejectRemaining();
        var benchmark = BenchmarkNetwork.All.FirstOrDefault(n => n.Key == key)
            ?? throw new ArgumentException($"profile: unknown network '{key}'; use one of {string.Join(", ", BenchmarkNetwork.All.Select(n => n.Key))}");
        if (steps < 10) throw new ArgumentException("profile: --steps must be at least 10");

        Console.WriteLine($"# Training-step profile of {benchmark.Title}, batch {benchmark.Options.BatchSize}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine();
        foreach (string line in MachineInfo.Describe())
            Console.WriteLine($"- {line}");
        Console.WriteLine($"- Median of {steps} steps on random images, in microseconds; the thread counts take turns every {RoundSteps} steps");
        Console.WriteLine();

        var columns = Measure(benchmark.Options, threadCounts, steps);
        Console.Write("| part |");
        foreach (int t in threadCounts) Console.Write($" {t} thread(s) µs |");
        Console.WriteLine(threadCounts.Length > 1 ? " speed-up |" : "");
        Console.Write("|---|");
        foreach (int _ in threadCounts) Console.Write("--:|");
        Console.WriteLine(threadCounts.Length > 1 ? "--:|" : "");
        for (int row = 0; row < columns[0].Count; row++)
        {
            Console.Write($"| {columns[0][row].Part} |");
            foreach (var column in columns)
                Console.Write(string.Create(CultureInfo.InvariantCulture, $" {column[row].Microseconds:F1} |"));
            if (threadCounts.Length > 1)
                Console.Write(string.Create(CultureInfo.InvariantCulture, $" {columns[0][row].Microseconds / columns[^1][row].Microseconds:F2} |"));
            Console.WriteLine();
        }
        Console.WriteLine();
        Console.WriteLine($"Load average (1, 5, 15 min) at the end: {MachineInfo.LoadAverage()}");
        return 0;
    }

    // Steps per round. The thread counts take turns round by round, so a slow spell of the
    // machine falls on all of them alike.
    private const int RoundSteps = 10;
    private const int WarmupSteps = 20;

    private static List<(string Part, double Microseconds)>[] Measure(TrainingOptions options, int[] threadCounts, int steps)
    {
        var fixtures = threadCounts.Select(threads => new TrainingStepFixture(options, threads)).ToArray();
        try
        {
            int parts = 2 * fixtures[0].Network.Layers.Count + 3;
            var ticks = fixtures.Select(_ => Enumerable.Range(0, parts).Select(_ => new long[steps]).ToArray()).ToArray();
            for (int f = 0; f < fixtures.Length; f++)
            {
                for (int step = 0; step < WarmupSteps; step++)
                    TimeStep(fixtures[f], ticks[f], 0);
            }

            for (int first = 0; first < steps; first += RoundSteps)
            {
                for (int f = 0; f < fixtures.Length; f++)
                {
                    for (int step = first; step < Math.Min(steps, first + RoundSteps); step++)
                        TimeStep(fixtures[f], ticks[f], step);
                }
            }

            var layers = fixtures[0].Network.Layers;
            var names = new List<string>();
            foreach (var layer in layers) names.Add($"forward {layer.Name}: {layer.Describe()}");
            names.Add("loss");
            for (int i = layers.Count - 1; i >= 0; i--) names.Add($"backward {layers[i].Name}");
            names.Add("optimiser step");
            names.Add("**whole step**");
            return ticks.Select(column => names.Select((name, p) => (name, Median(column[p]) * 1e6 / Stopwatch.Frequency)).ToList()).ToArray();
        }
        finally
        {
            foreach (var fixture in fixtures) fixture.Dispose();
        }
    }

    /// <summary>Runs one step, layer by layer, and stores the time of each part at index <paramref name="step"/>.</summary>
    private static void TimeStep(TrainingStepFixture fixture, long[][] ticks, int step)
    {
        var layers = fixture.Network.Layers;
        int parts = ticks.Length;
        int p = 0;
        long t = Stopwatch.GetTimestamp(), start = t;
        var y = fixture.Input;
        foreach (var layer in layers)
        {
            y = layer.Forward(y, training: true);
            ticks[p++][step] = Lap(ref t);
        }
        fixture.Loss.Compute(y, fixture.Labels, fixture.OutputGradient);
        ticks[p++][step] = Lap(ref t);
        Tensor? gradient = fixture.OutputGradient;
        for (int i = layers.Count - 1; i >= 0 && gradient is not null; i--)
        {
            gradient = layers[i].Backward(gradient);
            ticks[p++][step] = Lap(ref t);
        }
        while (p < parts - 2) ticks[p++][step] = 0;
        fixture.Optimizer.Step();
        ticks[p++][step] = Lap(ref t);
        ticks[p][step] = t - start;
    }

    private static long Lap(ref long timestamp)
    {
        long now = Stopwatch.GetTimestamp();
        long elapsed = now - timestamp;
        timestamp = now;
        return elapsed;
    }

    private static double Median(long[] values)
    {
        var sorted = (long[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }
}
