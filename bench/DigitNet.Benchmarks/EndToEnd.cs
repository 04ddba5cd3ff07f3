using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DigitNet.Data;
using DigitNet.Layers;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Benchmarks;

/// <summary>
/// The <c>e2e</c> mode: trains each <see cref="BenchmarkNetwork"/> on digits.mat in DigitNet (in
/// this process) and in PyTorch (bench/pytorch_train.py in a child process) and prints training
/// throughput and test accuracy side by side.
/// </summary>
/// <remarks>
/// <para>Both frameworks get the same preprocessed data, the same initial weights, the same sample
/// order in every epoch, the same loss, optimiser, batch size, epochs and thread count. This
/// process writes all of it to a temporary folder as .npy files. With equal inputs the two runs
/// differ only by float rounding, but rounding changes the path of training. For the CNN, the
/// test accuracies of one seed differed by up to 1.5 percentage points in runs where every
/// checked step agreed to rounding. So the step check (<see cref="StepCheck"/>) compares the
/// first steps directly, and a kernel that computes something wrong shows up there as a
/// difference far above the one between PyTorch float32 and float64.</para>
/// <para>Throughput counts the training loop only (batch assembly, forward, loss, backward and
/// the optimiser step) of the median epoch, after a short warm-up run on a copy, and excludes
/// data loading and evaluation. The child process gets the environment of this one without
/// <c>OPENBLAS_CORETYPE</c> and <c>OPENBLAS_L2_SIZE</c>, so PyTorch's OpenBLAS picks its
/// fastest kernel for this CPU.</para>
/// </remarks>
internal static class EndToEnd
{
    private const int WarmupBatches = 20;

    /// <summary>Steps that the step check compares when <c>--check-steps</c> is not given.</summary>
    private const int DefaultCheckSteps = 10;

    /// <summary>Rounds of the CNN's thread-scaling runs when <c>--scaling-rounds</c> is not given.</summary>
    private const int DefaultScalingRounds = 3;

    /// <summary>Rounds of each framework's training when <c>--rounds</c> is not given.</summary>
    private const int DefaultRounds = 3;

    public static int Run(ArgumentReader arguments)
    {
        string repository = FindRepositoryRoot();
        string dataPath = arguments.Text("data")
            ?? Environment.GetEnvironmentVariable("DIGITNET_DATA")
            ?? Path.Combine(repository, "..", "shared", "data", "digits.mat");
        int threads = arguments.Int("threads", 2);
        string[] keys = (arguments.Text("networks") ?? "baseline,mlp,cnn").Split(',', StringSplitOptions.TrimEntries);
        int epochsOverride = arguments.Int("epochs", 0);
        int seed = arguments.Int("seed", -1);
        int checkSteps = arguments.Int("check-steps", DefaultCheckSteps);
        string pyTorchType = arguments.Text("pytorch-dtype") ?? "float32";
        string python = arguments.Text("python") ?? "/usr/bin/python3";
        bool skipScaling = arguments.Flag("no-scaling");
        int scalingRounds = arguments.Int("scaling-rounds", DefaultScalingRounds);
        int rounds = arguments.Int("rounds", DefaultRounds);
        bool keepFiles = arguments.Flag("keep-files");
        arguments.RejectRemaining();
        if (threads < 1)
            throw new ArgumentException("e2e: --threads must be at least 1");
        if (scalingRounds < 1)
            throw new ArgumentException("e2e: --scaling-rounds must be at least 1");
        if (rounds < 1)
            throw new ArgumentException("e2e: --rounds must be at least 1");
        if (pyTorchType is not ("float32" or "float64"))
            throw new ArgumentException($"e2e: --pytorch-dtype must be float32 or float64, got '{pyTorchType}'");

        var networks = keys.Select(key => BenchmarkNetwork.All.FirstOrDefault(n => n.Key == key)
            ?? throw new ArgumentException($"e2e: unknown network '{key}'; expected baseline, mlp or cnn")).ToList();
        string script = Path.Combine(repository, "bench", "pytorch_train.py");
        var data = DigitsMat.Load(Path.GetFullPath(dataPath));
        string workDirectory = Directory.CreateTempSubdirectory("digitnet-e2e-").FullName;

        try
        {
            PrintHeader(dataPath, threads);
            var rows = new List<ComparisonRow>();
            ScalingResult? cnnScaling = null;
            foreach (var network in networks)
            {
                var options = network.Options with
                {
                    Threads = threads,
                    Epochs = epochsOverride > 0 ? epochsOverride : network.Options.Epochs,
                    Seed = seed >= 0 ? (ulong)seed : network.Options.Seed,
                };
                // The frameworks take turns, so a slow spell of the machine, which can last
                // seconds, falls on one round of one of them and not on the median. Each round
                // starts from the next seed: the accuracy of one seed depends on the rounding
                // along the way, and the mean over several seeds is a firmer check.
                var digitNet = new DigitNetResult[rounds];
                var pyTorch = new PyTorchResult[rounds];
                for (int round = 0; round < rounds; round++)
                {
                    var roundOptions = options with { Seed = options.Seed + (ulong)round };
                    Console.Error.WriteLine($"e2e: {network.Title}: round {round + 1} of {rounds}, exporting the data, weights and sample order of seed {roundOptions.Seed}");
                    string folder = Path.Combine(workDirectory, network.Key, $"seed-{roundOptions.Seed}");
                    var export = RunExport.Write(folder, roundOptions, data, round == 0 ? checkSteps : 0);
                    Console.Error.WriteLine($"e2e: {network.Title}: round {round + 1} of {rounds}, DigitNet, {threads} thread(s)");
                    digitNet[round] = TrainDigitNet(roundOptions, data);
                    Console.Error.WriteLine($"e2e: {network.Title}: round {round + 1} of {rounds}, PyTorch, {threads} thread(s)");
                    pyTorch[round] = TrainPyTorch(python, script, export, roundOptions, pyTorchType, check: round == 0);
                }
                rows.Add(new ComparisonRow(network, options, digitNet, pyTorch));

                if (network.Key == "cnn" && !skipScaling && threads != 1)
                    cnnScaling = MeasureScaling(network, options, data, scalingRounds);
            }

            PrintComparison(rows, threads);
            PrintStepCheck(rows);
            if (cnnScaling is not null)
                PrintScaling(cnnScaling);
            Console.WriteLine($"Load average (1, 5, 15 min) at the end: {MachineInfo.LoadAverage()}");
            return 0;
        }
        finally
        {
            if (keepFiles) Console.Error.WriteLine($"e2e: the exported files are in {workDirectory}");
            else Directory.Delete(workDirectory, recursive: true);
        }
    }

    private static void PrintHeader(string dataPath, int threads)
    {
        Console.WriteLine($"# Training: DigitNet against PyTorch, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine();
        foreach (string line in MachineInfo.Describe())
            Console.WriteLine($"- {line}");
        Console.WriteLine($"- Data: {Path.GetFullPath(dataPath)}; {threads} thread(s) for both frameworks");
        Console.WriteLine();
    }

    /// <summary>Throughput, accuracy and steady-state allocation of one DigitNet training run.</summary>
    /// <param name="EpochSamplesPerSecond">Training throughput of each epoch.</param>
    internal sealed record DigitNetResult(double SamplesPerSecond, double TestAccuracy, double BytesPerBatch, int Threads,
        double[] EpochSamplesPerSecond);

    /// <summary>What bench/pytorch_train.py prints as JSON.</summary>
    /// <param name="Dtype">Floating-point type of the PyTorch training run, float32 or float64.</param>
    /// <param name="Check">The step check, or null when it did not run.</param>
    internal sealed record PyTorchResult(
        string TorchVersion, int Threads, int InteropThreads, string OpenBlasCore,
        double[] EpochSeconds, double SamplesPerSecond, double TestAccuracy, string Dtype, StepCheckResult? Check);

    /// <summary>
    /// The step check of bench/pytorch_train.py. Each value is the largest absolute difference
    /// divided by the largest magnitude of the reference, and without a suffix it compares
    /// DigitNet with PyTorch float32.
    /// </summary>
    /// <param name="FirstStep">Largest over step 1: every layer output, the loss, the gradient at every layer output and every parameter gradient.</param>
    /// <param name="FirstStepFloat32VsFloat64">The same for PyTorch float32 against PyTorch float64.</param>
    /// <param name="WeightChange">For each step, the largest over the parameters of the difference of their change from the initial weights.</param>
    /// <param name="WeightChangeFloat64">The same against PyTorch float64.</param>
    /// <param name="WeightChangeFloat32VsFloat64">The same for PyTorch float32 against PyTorch float64.</param>
    internal sealed record StepCheckResult(
        int Steps, double FirstStep, double FirstStepFloat32VsFloat64,
        double[] WeightChange, double[] WeightChangeFloat64, double[] WeightChangeFloat32VsFloat64);

    /// <summary>
    /// Trains through <see cref="TrainingRun.Run"/>, as <c>digitnet train</c> does, after a one-epoch
    /// warm-up on a few batches that compiles every method on the path.
    /// </summary>
    internal static DigitNetResult TrainDigitNet(TrainingOptions options, DataSplits data)
    {
        int warmupSamples = Math.Min(data.Train.Count, WarmupBatches * options.BatchSize);
        var warmupData = new DataSplits(Head(data.Train, warmupSamples), Head(data.Valid, 100), Head(data.Test, 100));
        TrainingRun.Run(options with { Epochs = 1 }, warmupData);

        // Epoch 2 is steady state: every buffer has been sized by epoch 1 and its evaluation.
        var probe = new AllocationProbe(options.Epochs >= 2 ? 2 : 1);
        var outcome = TrainingRun.Run(options, data, batchProgress: probe);
        double[] epochRates = outcome.Training.Epochs.Select(epoch => data.Train.Count / epoch.Seconds).ToArray();
        return new DigitNetResult(Median(epochRates), outcome.Test.Accuracy, probe.BytesPerBatch,
            TrainingRun.ThreadCount(options), epochRates);
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static Dataset Head(Dataset data, int count) =>
        new(data.Name, data.SampleShape, data.Features[..(count * data.SampleShape.Size)], data.Labels[..count], data.ClassNames);

    private static PyTorchResult TrainPyTorch(string python, string script, RunExport export, TrainingOptions options, string dtype, bool check)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        string[] scriptArguments =
        [
            script,
            "--data", export.Folder,
            "--layers", export.LayersText,
            "--loss", options.Loss,
            "--lr", options.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            "--momentum", options.Momentum.ToString("R", CultureInfo.InvariantCulture),
            "--batch-size", options.BatchSize.ToString(CultureInfo.InvariantCulture),
            "--epochs", options.Epochs.ToString(CultureInfo.InvariantCulture),
            "--threads", TrainingRun.ThreadCount(options).ToString(CultureInfo.InvariantCulture),
            "--warmup-batches", WarmupBatches.ToString(CultureInfo.InvariantCulture),
            "--dtype", dtype,
        ];
        foreach (string argument in scriptArguments) start.ArgumentList.Add(argument);
        if (check && export.CheckSteps > 0) start.ArgumentList.Add("--check");
        start.Environment.Remove("OPENBLAS_CORETYPE");
        start.Environment.Remove("OPENBLAS_L2_SIZE");

        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"could not start {python}");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed with exit code {process.ExitCode}; its error output is above");

        string json = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        var result = JsonSerializer.Deserialize<PyTorchResult>(json, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        return result ?? throw new InvalidOperationException($"{script} printed no result; its last line was '{json}'");
    }

    /// <summary>
    /// One network's rounds in both frameworks, the first from seed <c>Options.Seed</c> and each
    /// later one from the next seed; round 1 of PyTorch ran the step check.
    /// </summary>
    private sealed record ComparisonRow(BenchmarkNetwork Network, TrainingOptions Options, DigitNetResult[] DigitNet, PyTorchResult[] PyTorch)
    {
        public double DigitNetSamplesPerSecond => Median(DigitNet.Select(round => round.SamplesPerSecond));

        public double PyTorchSamplesPerSecond => Median(PyTorch.Select(round => round.SamplesPerSecond));

        public double DigitNetTestAccuracy => DigitNet.Average(round => round.TestAccuracy);

        public double PyTorchTestAccuracy => PyTorch.Average(round => round.TestAccuracy);

        public string Seeds => DigitNet.Length == 1
            ? $"{Options.Seed}"
            : $"{Options.Seed} to {Options.Seed + (ulong)(DigitNet.Length - 1)}";
    }

    private static void PrintComparison(IReadOnlyList<ComparisonRow> rows, int threads)
    {
        var first = rows.First().PyTorch[0];
        int rounds = rows.First().DigitNet.Length;
        Console.WriteLine($"PyTorch {first.TorchVersion} in {first.Dtype}, {first.Threads} intra-op and {first.InteropThreads} inter-op thread(s), OpenBLAS core {first.OpenBlasCore}.");
        Console.WriteLine($"Samples per second over the training loop of the median epoch, median of {rounds} round(s) in which the frameworks take turns,");
        Console.WriteLine("each round from the next seed; test accuracy of the final weights on the 1000 test images, mean over the rounds.");
        Console.WriteLine();
        Console.WriteLine("| network | batch | epochs | threads | seeds | DigitNet samples/s | PyTorch samples/s | DigitNet / PyTorch | DigitNet test accuracy | PyTorch test accuracy | DigitNet bytes allocated per batch |");
        Console.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var row in rows)
        {
            double bytesPerBatch = row.DigitNet.Max(round => round.BytesPerBatch);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Network.Title} | {row.Options.BatchSize} | {row.Options.Epochs} | {threads} | {row.Seeds} | {row.DigitNetSamplesPerSecond:N0} | {row.PyTorchSamplesPerSecond:N0} | {row.DigitNetSamplesPerSecond / row.PyTorchSamplesPerSecond:F1} | {row.DigitNetTestAccuracy:P2} | {row.PyTorchTestAccuracy:P2} | {bytesPerBatch:F0} |"));
        }
        Console.WriteLine();
        if (rounds == 1) return;

        Console.WriteLine("Each round: samples per second of the median epoch, and test accuracy.");
        Console.WriteLine();
        Console.WriteLine("| network | DigitNet samples/s | PyTorch samples/s | DigitNet test accuracy | PyTorch test accuracy |");
        Console.WriteLine("|---|--:|--:|--:|--:|");
        foreach (var row in rows)
        {
            Console.WriteLine($"| {row.Network.Title} | {EachRound(row.DigitNet.Select(r => r.SamplesPerSecond), "N0")} | {EachRound(row.PyTorch.Select(r => r.SamplesPerSecond), "N0")} " +
                $"| {EachRound(row.DigitNet.Select(r => r.TestAccuracy), "P1")} | {EachRound(row.PyTorch.Select(r => r.TestAccuracy), "P1")} |");
        }
        Console.WriteLine();
    }

    private static string EachRound(IEnumerable<double> values, string format) =>
        string.Join(", ", values.Select(value => value.ToString(format, CultureInfo.InvariantCulture)));

    private static void PrintStepCheck(IReadOnlyList<ComparisonRow> rows)
    {
        var checkedRows = rows.Where(row => row.PyTorch[0].Check is not null).ToList();
        if (checkedRows.Count == 0) return;

        Console.WriteLine("Step check: the first SGD steps from the exported weights on the first batches, in DigitNet and in PyTorch float32 and float64.");
        Console.WriteLine("Each value is the largest difference relative to the largest magnitude: over step 1, of every layer output, the loss and every gradient;");
        Console.WriteLine("after a step, of each parameter's change from the initial weights (largest over the parameters).");
        Console.WriteLine();
        Console.WriteLine("| network | steps | step 1, DigitNet vs PyTorch | step 1, PyTorch f32 vs f64 | change after step 1, DigitNet vs PyTorch | after the last step, DigitNet vs PyTorch | after the last step, DigitNet vs PyTorch f64 | after the last step, PyTorch f32 vs f64 |");
        Console.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var row in checkedRows)
        {
            var check = row.PyTorch[0].Check!;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Network.Title} | {check.Steps} | {check.FirstStep:E1} | {check.FirstStepFloat32VsFloat64:E1} | {check.WeightChange[0]:E1} | {check.WeightChange[^1]:E1} | {check.WeightChangeFloat64[^1]:E1} | {check.WeightChangeFloat32VsFloat64[^1]:E1} |"));
        }
        Console.WriteLine();
    }

    /// <summary>The CNN trained on one thread and on several, in alternating rounds.</summary>
    private sealed record ScalingResult(int Threads, DigitNetResult[] OneThread, DigitNetResult[] Many);

    /// <summary>
    /// Trains the network on one thread and on <c>options.Threads</c> in turn, <paramref name="rounds"/>
    /// times each. On a shared machine the speed of a core changes over minutes. Runs that take
    /// turns see the same slow and fast spells, where one run of each would compare two
    /// different machines.
    /// </summary>
    private static ScalingResult MeasureScaling(BenchmarkNetwork network, TrainingOptions options, DataSplits data, int rounds)
    {
        var oneThread = new DigitNetResult[rounds];
        var many = new DigitNetResult[rounds];
        for (int round = 0; round < rounds; round++)
        {
            Console.Error.WriteLine($"e2e: {network.Title}: scaling round {round + 1} of {rounds}, DigitNet on 1 and {options.Threads} threads");
            oneThread[round] = TrainDigitNet(options with { Threads = 1 }, data);
            many[round] = TrainDigitNet(options, data);
        }
        return new ScalingResult(options.Threads, oneThread, many);
    }

    private static void PrintScaling(ScalingResult scaling)
    {
        Console.WriteLine($"DigitNet CNN thread scaling: {scaling.OneThread.Length} rounds, each training the CNN on 1 thread and then on {scaling.Threads}.");
        Console.WriteLine("Samples per second of the median epoch over all rounds, and of each round's median epoch.");
        Console.WriteLine();
        Console.WriteLine("| threads | samples/s | speed-up | each round, samples/s | test accuracy |");
        Console.WriteLine("|--:|--:|--:|---|--:|");
        double baseline = Median(scaling.OneThread.SelectMany(run => run.EpochSamplesPerSecond));
        foreach (var (threads, runs) in new[] { (1, scaling.OneThread), (scaling.Threads, scaling.Many) })
        {
            double rate = Median(runs.SelectMany(run => run.EpochSamplesPerSecond));
            string rounds = string.Join(", ", runs.Select(run => run.SamplesPerSecond.ToString("N0", CultureInfo.InvariantCulture)));
            string accuracies = string.Join(", ", runs.Select(run => run.TestAccuracy.ToString("P1", CultureInfo.InvariantCulture)).Distinct());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {threads} | {rate:N0} | {rate / baseline:F2} | {rounds} | {accuracies} |"));
        }
        Console.WriteLine();
    }

    private static string FindRepositoryRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "bench", "pytorch_train.py")))
                    return directory.FullName;
            }
        }
        throw new FileNotFoundException("bench/pytorch_train.py not found above the current folder; run from the DigitNet repository");
    }

    /// <summary>
    /// Records the bytes allocated by all threads over one epoch's batches, from the end of its
    /// first batch to the end of its last, so the count covers only steady-state batches.
    /// </summary>
    private sealed class AllocationProbe(int epoch) : IProgress<BatchProgress>
    {
        private long _startBytes;

        /// <summary>Bytes per batch, or NaN when the epoch had fewer than two batches.</summary>
        public double BytesPerBatch { get; private set; } = double.NaN;

        public void Report(BatchProgress progress)
        {
            if (progress.Epoch != epoch) return;
            if (progress.Batch == 1)
                _startBytes = GC.GetTotalAllocatedBytes(precise: true);
            else if (progress.Batch == progress.Batches)
                BytesPerBatch = (double)(GC.GetTotalAllocatedBytes(precise: true) - _startBytes) / (progress.Batches - 1);
        }
    }
}

/// <summary>
/// The inputs of one PyTorch run, written as .npy files: the preprocessed splits, the initial
/// weights DigitNet starts from, and the sample order of every epoch.
/// </summary>
internal sealed record RunExport(string Folder, string LayersText, int CheckSteps)
{
    /// <summary>
    /// Writes the files for <paramref name="options"/> into <paramref name="folder"/>. The weights
    /// and orders are computed as <see cref="TrainingRun.Run"/> and <see cref="Trainer"/> compute
    /// them from the seed; if those change, the two frameworks start apart, which widens the
    /// accuracy gap but does not change the timing.
    /// </summary>
    /// <param name="checkSteps">Number of first steps that <see cref="StepCheck"/> records; 0 for none.</param>
    public static RunExport Write(string folder, TrainingOptions options, DataSplits data, int checkSteps)
    {
        Directory.CreateDirectory(folder);
        var preprocessing = Preprocessing.Fit(Preprocessing.ParseKind(options.Scaling), data.Train);
        var train = preprocessing.Apply(data.Train);
        WriteSplit(folder, "train", train);
        WriteSplit(folder, "test", preprocessing.Apply(data.Test));

        var architecture = TrainingRun.BuildArchitecture(options, data.Train.SampleShape, data.Train.ClassCount);
        var network = new Network(architecture);
        network.Initialize(TrainingRun.ParseInit(options.Init), new RunRandom(options.Seed).Initialization);
        string weights = Path.Combine(folder, "weights");
        Directory.CreateDirectory(weights);
        int index = 0;
        foreach (Parameter parameter in network.Parameters)
            NpyFile.Write(Path.Combine(weights, $"{index++:D3}_{parameter.Name}.npy"), parameter.Value, parameter.Shape.ToArray());

        var shuffle = new RunRandom(options.Seed).Shuffle;
        int count = data.Train.Count;
        var order = Enumerable.Range(0, count).ToArray();
        var orders = new int[options.Epochs * count];
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            shuffle.Shuffle(order);
            order.CopyTo(orders, epoch * count);
        }
        NpyFile.Write(Path.Combine(folder, "orders.npy"), orders, options.Epochs, count);

        if (checkSteps > 0)
            StepCheck.Write(folder, options, train, network, orders, checkSteps);
        return new RunExport(folder, architecture.LayersText, checkSteps);
    }

    private static void WriteSplit(string folder, string name, Dataset split)
    {
        var shape = split.SampleShape.WithBatch(split.Count).ToArray();
        NpyFile.Write(Path.Combine(folder, $"{name}_x.npy"), split.Features, shape);
        NpyFile.Write(Path.Combine(folder, $"{name}_y.npy"), split.Labels, split.Count);
    }
}
