using System.Diagnostics;
using System.Globalization;
using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Benchmarks;

/// <summary>
/// The <c>latency</c> mode: time of one forward pass of a single 16x16 image through the
/// two-hidden-layer network (256-180-100-10), with and without a worker pool attached, and the
/// bytes each call allocates. InferenceBenchmarks measures the same call under BenchmarkDotNet.
/// </summary>
internal static class InferenceLatency
{
    public static int Run(ArgumentReader arguments)
    {
        int rounds = arguments.Int("rounds", 20);
        int calls = arguments.Int("calls", 20_000);
        arguments.RejectRemaining();
        if (rounds < 1 || calls < 1)
            throw new ArgumentException("latency: --rounds and --calls must be at least 1");

        Console.WriteLine($"# Single-image inference, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine();
        foreach (string line in MachineInfo.Describe())
            Console.WriteLine($"- {line}");
        Console.WriteLine($"- {rounds} rounds of {calls:N0} calls; the median round and the fastest round are shown");
        Console.WriteLine();
        Console.WriteLine("| network | worker pool | median µs per image | fastest µs per image | bytes allocated per call |");
        Console.WriteLine("|---|---|--:|--:|--:|");

        var network = CreateMlp();
        var image = CreateImage(network);
        Measure(network, image, "none", rounds, calls);
        using (var pool = new WorkerPool(2))
        {
            network.Workers = pool;
            Measure(network, image, "2 threads", rounds, calls);
            network.Workers = null;
        }
        Console.WriteLine();
        Console.WriteLine($"Load average (1, 5, 15 min) at the end: {MachineInfo.LoadAverage()}");
        return 0;
    }

    /// <summary>The two-hidden-layer network of the end-to-end benchmark, initialised from its seed.</summary>
    public static Network CreateMlp()
    {
        var options = BenchmarkNetwork.Mlp.Options;
        var architecture = TrainingRun.BuildArchitecture(options, new TensorShape(1, 16, 16), classes: 10);
        var network = new Network(architecture);
        network.Initialize(TrainingRun.ParseInit(options.Init), new RunRandom(options.Seed).Initialization);
        return network;
    }

    /// <summary>A batch of one image with pixel values in [0, 1).</summary>
    public static Tensor CreateImage(Network network)
    {
        var image = new Tensor(network.InputShape.WithBatch(1));
        var random = new RandomSource(7);
        var pixels = image.Span;
        for (int i = 0; i < pixels.Length; i++) pixels[i] = random.NextSingle();
        return image;
    }

    private static void Measure(Network network, Tensor image, string poolLabel, int rounds, int calls)
    {
        network.Forward(image, training: false);
        var perCall = new double[rounds];
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < rounds; round++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) network.Forward(image, training: false);
            perCall[round] = Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
        }
        double bytesPerCall = (double)(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / ((long)rounds * calls);

        Array.Sort(perCall);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| 256-180-100-10 ReLU | {poolLabel} | {perCall[rounds / 2] * 1e6:F2} | {perCall[0] * 1e6:F2} | {bytesPerCall:F0} |"));
    }
}
