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
        Console.WriteLine($"- Median of {steps} steps on random images, in microseconds");
        Console.WriteLine();

        var columns = threadCounts.Select(t => Measure(benchmark.Options, t, steps)).ToArray();
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

    private static List<(string Part, double Microseconds)> Measure(TrainingOptions options, int threads, int steps)
    {
        using var fixture = new TrainingStepFixture(options, threads);
        var (input, labels, outputGradient) = (fixture.Input, fixture.Labels, fixture.OutputGradient);

        var layers = fixture.Network.Layers;
        int parts = 2 * layers.Count + 3;
        var ticks = new long[parts][];
        for (int p = 0; p < parts; p++) ticks[p] = new long[steps];

        for (int step = -20; step < steps; step++)
        {
            int s = Math.Max(step, 0);
            int p = 0;
            long t = Stopwatch.GetTimestamp(), start = t;
            var y = input;
            foreach (var layer in layers)
            {
                y = layer.Forward(y, training: true);
                ticks[p++][s] = Lap(ref t);
            }
            fixture.Loss.Compute(y, labels, outputGradient);
            ticks[p++][s] = Lap(ref t);
            Tensor? gradient = outputGradient;
            for (int i = layers.Count - 1; i >= 0 && gradient is not null; i--)
            {
                gradient = layers[i].Backward(gradient);
                ticks[p++][s] = Lap(ref t);
            }
            while (p < parts - 2) ticks[p++][s] = 0;
            fixture.Optimizer.Step();
            ticks[p++][s] = Lap(ref t);
            ticks[p][s] = t - start;
        }

        var names = new List<string>();
        foreach (var layer in layers) names.Add($"forward {layer.Name}: {layer.Describe()}");
        names.Add("loss");
        for (int i = layers.Count - 1; i >= 0; i--) names.Add($"backward {layers[i].Name}");
        names.Add("optimiser step");
        names.Add("**whole step**");
        return names.Select((name, p) => (name, Median(ticks[p]) * 1e6 / Stopwatch.Frequency)).ToList();
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
