using BenchmarkDotNet.Attributes;
using DigitNet.Kernels;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Optimizers;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Benchmarks.Micro;

/// <summary>
/// One training step (forward, loss, backward, optimiser update) of each network of the
/// end-to-end benchmark at its batch size, on random images. The memory diagnoser's column is
/// the allocation per batch of steady-state training, which should be 0 B.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class TrainingStepBenchmarks
{
    private Network _network = null!;
    private Loss _loss = null!;
    private Optimizer _optimizer = null!;
    private Tensor _input = null!, _outputGradient = null!;
    private byte[] _labels = [];
    private WorkerPool? _pool;

    [Params("baseline", "mlp", "cnn")]
    public string Network { get; set; } = "baseline";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchmarkNetwork.All.First(n => n.Key == Network).Options;
        var architecture = TrainingRun.BuildArchitecture(options, new TensorShape(1, 16, 16), classes: 10);
        _network = new Network(architecture);
        var random = new RunRandom(options.Seed);
        _network.Initialize(TrainingRun.ParseInit(options.Init), random.Initialization);
        _pool = Threads > 1 ? new WorkerPool(Threads) : null;
        _network.Workers = _pool;
        _loss = Loss.FromName(options.Loss);
        _optimizer = TrainingRun.BuildOptimizer(options, _network.Parameters);
        _optimizer.Workers = _pool;

        _input = new Tensor(_network.InputShape.WithBatch(options.BatchSize));
        _outputGradient = new Tensor(_network.OutputShape.WithBatch(options.BatchSize));
        _labels = new byte[options.BatchSize];
        var pixels = _input.Span;
        for (int i = 0; i < pixels.Length; i++) pixels[i] = random.Shuffle.NextSingle();
        for (int i = 0; i < _labels.Length; i++) _labels[i] = (byte)random.Shuffle.NextInt(10);
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public double TrainOneBatch()
    {
        var output = _network.Forward(_input, training: true);
        double loss = _loss.Compute(output, _labels, _outputGradient);
        _network.Backward(_outputGradient);
        _optimizer.Step();
        return loss;
    }
}
