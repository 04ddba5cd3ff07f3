using BenchmarkDotNet.Attributes;

namespace DigitNet.Benchmarks.Micro;

/// <summary>
/// One training step (forward, loss, backward, optimiser update) of each network of the
/// end-to-end benchmark at its batch size, on random images. The memory diagnoser's column is
/// the allocation per batch of steady-state training, which should be 0 B.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class TrainingStepBenchmarks
{
    private TrainingStepFixture _fixture = null!;

    [Params("baseline", "mlp", "cnn")]
    public string Network { get; set; } = "baseline";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() =>
        _fixture = new TrainingStepFixture(BenchmarkNetwork.All.First(n => n.Key == Network).Options, Threads);

    [GlobalCleanup]
    public void Cleanup() => _fixture.Dispose();

    [Benchmark]
    public double TrainOneBatch() => _fixture.Step();
}
