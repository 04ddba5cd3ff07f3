using DigitNet.Data;
using DigitNet.Kernels;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Tests.Training;

/// <summary>
/// Steady-state training allocates nothing: the batches of an epoch after the first, whose
/// batches and evaluation sized the buffers, allocate 0 bytes on the training thread and on
/// every worker thread of the pool.
/// </summary>
/// <remarks>
/// Epochs 2 to 4 are measured and each thread's least count must be 0: an allocation per batch
/// shows in every epoch, while the rare stray kilobytes described at
/// <see cref="TestUtil.AllocationMeter"/> do not.
/// </remarks>
public sealed class AllocationTests
{
    private const string Baseline = "dense 50, sigmoid, dense 10, sigmoid";
    private const string TwoHidden = "dense 180, relu, dense 100, relu, dense 10";
    private const string Cnn = "conv 16 3x3 pad=1, relu, maxpool 2, conv 32 3x3 pad=1, relu, maxpool 2, "
        + "conv 64 3x3 pad=1, relu, maxpool 2, flatten, dense 128, relu, dense 10";

    public static TheoryData<string, string, int, int> Networks() => new()
    {
        { Baseline, "mse", 1, 1 },
        { Baseline, "mse", 1, 2 },
        { TwoHidden, "cross-entropy", 64, 1 },
        { TwoHidden, "cross-entropy", 64, 2 },
        { Cnn, "cross-entropy", 64, 1 },
        { Cnn, "cross-entropy", 64, 2 },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void SecondEpoch_AllocatesNothingPerBatch(string layers, string loss, int batchSize, int threads)
    {
        // Five full batches and a partial one, so the smaller last batch is part of the steady state.
        int samples = batchSize == 1 ? 200 : 5 * batchSize + 10;
        var train = RandomDigits("train", samples, seed: 1);
        var valid = RandomDigits("valid", 50, seed: 2);
        var options = new TrainingOptions
        {
            Layers = layers,
            Loss = loss,
            Init = loss == "mse" ? "normal" : "he",
            LearningRate = 0.01,
            Momentum = 0.9,
            BatchSize = batchSize,
            Epochs = 4,
        };

        using var pool = new WorkerPool(threads);
        var network = new Network(Architecture.Parse(train.SampleShape, layers));
        var random = new RunRandom(options.Seed);
        network.Initialize(TrainingRun.ParseInit(options.Init), random.Initialization);
        network.Workers = pool;
        var probe = new AllocationProbe(pool, firstEpoch: 2);
        var trainer = new Trainer(network, Loss.FromName(loss), TrainingRun.BuildOptimizer(options, network.Parameters), options, random)
        {
            BatchProgress = probe,
        };

        trainer.Fit(train, valid);

        Assert.True(probe.Epochs == 3, $"the probe measured {probe.Epochs} epochs, expected 3");
        for (int worker = 0; worker < threads; worker++)
        {
            long bytes = probe.LeastBytesByWorker[worker];
            Assert.True(bytes == 0,
                $"worker {worker} of {threads} allocated at least {bytes} bytes over {probe.Batches} batches in each of epochs 2 to 4 ({layers}, batch size {batchSize})");
        }
    }

    /// <summary>A data set of random 1x16x16 images with labels 0..9.</summary>
    private static Dataset RandomDigits(string name, int count, ulong seed)
    {
        var random = new RandomSource(seed);
        var features = new float[count * 256];
        for (int i = 0; i < features.Length; i++) features[i] = random.NextSingle();
        var labels = new byte[count];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)random.NextInt(10);
        return new Dataset(name, new TensorShape(1, 16, 16), features, labels, DigitsMat.ClassNames);
    }

    /// <summary>
    /// Reads the allocation counter of every thread of the pool after the first and after the last
    /// batch of each epoch from <paramref name="firstEpoch"/> on. It reads a worker's counter by
    /// running a one-index-per-worker job on the pool, because a thread's counter can only be
    /// read on that thread.
    /// </summary>
    private sealed class AllocationProbe(WorkerPool pool, int firstEpoch) : IProgress<BatchProgress>, IParallelJob
    {
        private readonly long[] _start = new long[pool.ThreadCount];
        private readonly long[] _current = new long[pool.ThreadCount];

        /// <summary>
        /// Minimum bytes each worker allocated between the two readings of one epoch; worker 0 is
        /// the training thread.
        /// </summary>
        public long[] LeastBytesByWorker { get; } = Enumerable.Repeat(long.MaxValue, pool.ThreadCount).ToArray();

        /// <summary>Batches between the two readings of an epoch.</summary>
        public int Batches { get; private set; }

        /// <summary>Epochs measured.</summary>
        public int Epochs { get; private set; }

        public void Report(BatchProgress progress)
        {
            if (progress.Epoch < firstEpoch) return;
            if (progress.Batch == 1)
            {
                pool.Run(this, pool.ThreadCount);
                _current.CopyTo(_start, 0);
            }
            else if (progress.Batch == progress.Batches)
            {
                pool.Run(this, pool.ThreadCount);
                for (int worker = 0; worker < _current.Length; worker++)
                    LeastBytesByWorker[worker] = Math.Min(LeastBytesByWorker[worker], _current[worker] - _start[worker]);
                Batches = progress.Batches - 1;
                Epochs++;
            }
        }

        public void Execute(int begin, int end, int worker) =>
            _current[worker] = GC.GetAllocatedBytesForCurrentThread();
    }
}
