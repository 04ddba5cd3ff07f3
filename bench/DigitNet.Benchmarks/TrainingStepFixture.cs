using DigitNet.Kernels;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Optimizers;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Benchmarks;

/// <summary>
/// Everything one training step of a benchmark network needs: the network initialised from its
/// seed, the loss, the optimiser, a pool of the requested threads, and one batch of random images
/// and labels. The profile mode and TrainingStepBenchmarks time steps on it.
/// </summary>
internal sealed class TrainingStepFixture : IDisposable
{
    public TrainingStepFixture(TrainingOptions options, int threads)
    {
        var architecture = TrainingRun.BuildArchitecture(options, new TensorShape(1, 16, 16), classes: 10);
        Network = new Network(architecture);
        var random = new RunRandom(options.Seed);
        Network.Initialize(TrainingRun.ParseInit(options.Init), random.Initialization);
        Pool = threads > 1 ? new WorkerPool(threads) : null;
        Network.Workers = Pool;
        Loss = Loss.FromName(options.Loss);
        Optimizer = TrainingRun.BuildOptimizer(options, Network.Parameters);
        Optimizer.Workers = Pool;

        Input = new Tensor(Network.InputShape.WithBatch(options.BatchSize));
        OutputGradient = new Tensor(Network.OutputShape.WithBatch(options.BatchSize));
        Labels = new byte[options.BatchSize];
        var pixels = Input.Span;
        for (int i = 0; i < pixels.Length; i++) pixels[i] = random.Shuffle.NextSingle();
        for (int i = 0; i < Labels.Length; i++) Labels[i] = (byte)random.Shuffle.NextInt(10);
    }

    public Network Network { get; }
    public Loss Loss { get; }
    public Optimizer Optimizer { get; }
    public WorkerPool? Pool { get; }
    public Tensor Input { get; }
    public Tensor OutputGradient { get; }
    public byte[] Labels { get; }

    /// <summary>Runs one whole step (forward, loss, backward, optimiser update) and returns the loss.</summary>
    public double Step()
    {
        var output = Network.Forward(Input, training: true);
        double loss = Loss.Compute(output, Labels, OutputGradient);
        Network.Backward(OutputGradient);
        Optimizer.Step();
        return loss;
    }

    public void Dispose() => Pool?.Dispose();
}
