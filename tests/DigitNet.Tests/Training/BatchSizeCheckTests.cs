using DigitNet.Data;
using DigitNet.Experiments;
using DigitNet.Layers;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Serialization;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Tests.Training;

/// <summary>
/// A 1-D batch normalisation cannot train on a batch of 1, so a batch size that gives one, in
/// every batch or only in the last batch of an epoch, is an <see cref="OptionException"/> raised
/// before training starts. Inference with batches of 1, 2-D batch normalisation over planes of
/// several pixels and a batch normalisation frozen for fine-tuning keep working.
/// </summary>
public sealed class BatchSizeCheckTests
{
    private const string BatchNorm1d = "dense 8, batchnorm, relu, dense 10";
    private const string BatchNorm2d = "conv 2 3x3 pad=1, batchnorm, relu, maxpool 2, dense 10";

    // A 16x16 convolution leaves planes of 1x1, so the 2-D layer has one value per channel and sample.
    private const string BatchNorm2dOnePixel = "conv 4 16x16, batchnorm, relu, dense 10";

    private static readonly TensorShape Digit = new(1, 16, 16);

    private static Network Build(string layers) => new(Architecture.Parse(Digit, layers));

    [Theory]
    [InlineData(1, 20, "the 20 training samples are split into batches of 1")]
    [InlineData(19, 20, "the 20 training samples in batches of 19 leave a last batch of 1")]
    [InlineData(3, 10000, "the 10000 training samples in batches of 3 leave a last batch of 1")]
    [InlineData(4999, 5000, "the 5000 training samples in batches of 4999 leave a last batch of 1")]
    public void CheckRejectsBatchOfOne(int batchSize, int trainCount, string problem)
    {
        var error = Assert.Throws<OptionException>(() => Trainer.CheckBatchSize(Build(BatchNorm1d), batchSize, trainCount));

        Assert.StartsWith($"--batch-size {batchSize}: layer batchnorm1 (batchnorm 1d 8) needs at least 2 samples in every training batch", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Contains("choose a batch size of at least 2 that does not leave a last batch of 1", error.Message);
    }

    [Theory]
    [InlineData(1, 5000, "such as 2")]
    [InlineData(1, 5, "such as 3")]
    [InlineData(3, 10000, "such as 2 or 4")]
    [InlineData(4999, 5000, "such as 4998 or 5000")]
    public void CheckSuggestsNearestWorkingSizes(int batchSize, int trainCount, string suggestion)
    {
        var error = Assert.Throws<OptionException>(() => Trainer.CheckBatchSize(Build(BatchNorm1d), batchSize, trainCount));

        Assert.EndsWith(suggestion, error.Message);
    }

    [Theory]
    [InlineData(2, 20)]
    [InlineData(3, 20)]
    [InlineData(20, 20)]
    [InlineData(6000, 5000)]
    [InlineData(4998, 5000)]
    [InlineData(3, 9)]
    public void CheckAcceptsBatchesOfTwoOrMore(int batchSize, int trainCount)
    {
        Trainer.CheckBatchSize(Build(BatchNorm1d), batchSize, trainCount);
    }

    [Fact]
    public void CheckAcceptsAnyBatchWithoutBatchNorm()
    {
        Trainer.CheckBatchSize(Build("dense 8, relu, dense 10"), 1, 20);
        Trainer.CheckBatchSize(Build("dense 8, relu, dense 10"), 19, 20);
    }

    [Fact]
    public void CheckAcceptsBatchOfOneFor2dPlanes()
    {
        Trainer.CheckBatchSize(Build(BatchNorm2d), 1, 20);
        Trainer.CheckBatchSize(Build(BatchNorm2d), 19, 20);
    }

    [Fact]
    public void CheckRejectsBatchOfOneFor1x1Planes()
    {
        var error = Assert.Throws<OptionException>(() => Trainer.CheckBatchSize(Build(BatchNorm2dOnePixel), 1, 20));

        Assert.Contains("layer batchnorm1 (batchnorm 2d 4)", error.Message);
    }

    [Fact]
    public void CheckNamesFirstBatchNormLayer()
    {
        var network = Build("dense 8, relu, dense 8, batchnorm, relu, dense 8, batchnorm, dense 10");

        var error = Assert.Throws<OptionException>(() => Trainer.CheckBatchSize(network, 1, 20));

        Assert.Contains("layer batchnorm1 (batchnorm 1d 8)", error.Message);
        Assert.DoesNotContain("batchnorm2", error.Message);
    }

    [Fact]
    public void CheckRejectsSingleTrainingSample()
    {
        var error = Assert.Throws<OptionException>(() => Trainer.CheckBatchSize(Build(BatchNorm1d), 4, 1));

        Assert.Equal(
            "layer batchnorm1 (batchnorm 1d 8) needs at least 2 samples in every training batch to estimate the batch variance, "
            + "but the training split has only 1 training sample; train on at least 2 samples or remove the layer",
            error.Message);
    }

    [Fact]
    public void FitRejectsBeforeFirstBatch()
    {
        var options = new TrainingOptions { Layers = BatchNorm1d, Loss = "cross-entropy", BatchSize = 19, Epochs = 1 };
        var network = Build(BatchNorm1d);
        var random = new RunRandom(options.Seed);
        network.Initialize(WeightInit.He, random.Initialization);
        var before = network.SnapshotParameters();
        var progress = new CountingProgress();
        var trainer = new Trainer(network, Loss.FromName(options.Loss), TrainingRun.BuildOptimizer(options, network.Parameters), options, random)
        {
            BatchProgress = progress,
        };

        var error = Assert.Throws<OptionException>(() => trainer.Fit(Digits("train", 20), Digits("valid", 10)));

        Assert.Contains("--batch-size 19", error.Message);
        Assert.Equal(0, progress.Batches);
        Assert.Equal(before, network.ParameterValues);
    }

    [Fact]
    public void RunCountsRotatedCopies()
    {
        var options = new TrainingOptions { Layers = BatchNorm1d, Loss = "cross-entropy", BatchSize = 3, Epochs = 1, RotatedCopies = [90], Threads = 1 };
        int epochs = 0;

        var error = Assert.Throws<OptionException>(() => TrainingRun.Run(options, Splits(20), epochCompleted: _ => epochs++));

        Assert.Contains("the 40 training samples (20 plus 20 rotated copies) in batches of 3 leave a last batch of 1", error.Message);
        Assert.Contains("such as 2 or 4", error.Message);
        Assert.Equal(0, epochs);
    }

    [Theory]
    [InlineData(BatchNorm1d, 3)]
    [InlineData(BatchNorm1d, 2)]
    [InlineData(BatchNorm2d, 1)]
    [InlineData(BatchNorm2d, 19)]
    public void RunTrainsWithWorkingBatchSize(string layers, int batchSize)
    {
        var options = new TrainingOptions { Layers = layers, Loss = "cross-entropy", Init = "he", LearningRate = 0.01, BatchSize = batchSize, Epochs = 1, Threads = 1 };

        var outcome = TrainingRun.Run(options, Splits(20));

        Assert.Equal(StopReason.Completed, outcome.Training.StopReason);
        Assert.Single(outcome.Training.Epochs);
    }

    [Fact]
    public void EvaluatorRunsBatchOfOne()
    {
        var options = new TrainingOptions { Layers = BatchNorm1d, Loss = "cross-entropy", Init = "he", LearningRate = 0.01, BatchSize = 4, Epochs = 1, Threads = 1 };
        var outcome = TrainingRun.Run(options, Splits(20));
        var valid = outcome.Preprocessing.Apply(Digits("valid", 7));

        var single = new Evaluator(outcome.Network, outcome.Loss, batchSize: 1).Evaluate(valid);
        var whole = new Evaluator(outcome.Network, outcome.Loss).Evaluate(valid);

        Assert.Equal(whole.Correct, single.Correct);
        Assert.Equal(whole.Loss, single.Loss, 1e-5);
    }

    [Fact]
    public void FineTuningRejectsBeforeEvaluating()
    {
        var options = new TrainingOptions { Layers = BatchNorm1d, Loss = "cross-entropy", Init = "he", LearningRate = 0.01, BatchSize = 4, Epochs = 1, Threads = 1 };
        var outcome = TrainingRun.Run(options, Splits(20));
        var model = new LoadedModel(outcome.Network, outcome.Preprocessing, outcome.Loss, DigitsMat.ClassNames, null);
        var before = model.Network.SnapshotParameters();
        int epochs = 0;

        // Two trained layers include batchnorm1, which then normalises with the batch statistics.
        var error = Assert.Throws<OptionException>(() =>
            FineTuning.Run(model, options with { BatchSize = 19 }, Splits(20), trainLayers: 2, epochCompleted: _ => epochs++));

        Assert.Contains("--batch-size 19: layer batchnorm1 (batchnorm 1d 8)", error.Message);
        Assert.Contains("the 20 training samples in batches of 19 leave a last batch of 1", error.Message);
        Assert.Equal(0, epochs);
        Assert.Equal(before, model.Network.ParameterValues);
        Assert.All(model.Network.Parameters, parameter => Assert.False(parameter.Frozen, $"{parameter.Name} stayed frozen"));
    }

    [Fact]
    public void FineTuningTakesLastBatchOfOne()
    {
        var options = new TrainingOptions { Layers = BatchNorm1d, Loss = "cross-entropy", Init = "he", LearningRate = 0.01, BatchSize = 4, Epochs = 1, Threads = 1 };
        var outcome = TrainingRun.Run(options, Splits(20));
        var model = new LoadedModel(outcome.Network, outcome.Preprocessing, outcome.Loss, DigitsMat.ClassNames, null);
        int epochs = 0;

        // Only dense2 trains, so the frozen batchnorm1 normalises with its running statistics and
        // the last batch of 1 needs no batch variance.
        var result = FineTuning.Run(model, options with { BatchSize = 19, Patience = 0 }, Splits(20), trainLayers: 1, epochCompleted: _ => epochs++);

        Assert.Equal(1, epochs);
        Assert.Equal(StopReason.Completed, result.Training.StopReason);
    }

    [Fact]
    public void SweepCheckRejectsFirstStage()
    {
        var options = new TrainingOptions { Layers = BatchNorm1d, Loss = "cross-entropy", BatchSize = 3, RotatedCopies = [90] };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, null), options, null);

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], Digit, 10, trainCount: 5000));

        Assert.StartsWith($"trial {trial.Id}: --batch-size 3: layer batchnorm1", error.Message);
        Assert.Contains("the 10000 training samples (5000 plus 5000 rotated copies)", error.Message);
    }

    [Fact]
    public void SweepCheckRejectsFineTuningStage()
    {
        // The fine-tuning stage trains on the original 5000 samples only, where 4999 leaves a last batch of 1.
        var options = new TrainingOptions { Layers = BatchNorm1d, Loss = "cross-entropy", BatchSize = 4999, RotatedCopies = [90] };
        var fineTune = options with { RotatedCopies = [] };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, fineTune), options, fineTune);

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], Digit, 10, trainCount: 5000));

        Assert.StartsWith($"trial {trial.Id}, fine-tuning stage: --batch-size 4999:", error.Message);
        Assert.Contains("the 5000 training samples in batches of 4999", error.Message);
    }

    /// <summary>Training, validation and test splits of <paramref name="trainCount"/>, 10 and 10 random images.</summary>
    private static DataSplits Splits(int trainCount) =>
        new(Digits("train", trainCount), Digits("valid", 10), Digits("test", 10));

    /// <summary>Random 1x16x16 images with pixel values 0..255 and labels 0..9 in turn.</summary>
    private static Dataset Digits(string name, int count)
    {
        var random = new RandomSource((ulong)(name.Length * 1000 + count));
        var features = new float[count * Digit.Size];
        for (int i = 0; i < features.Length; i++) features[i] = random.NextInt(256);
        var labels = new byte[count];
        for (int i = 0; i < labels.Length; i++) labels[i] = (byte)(i % 10);
        return new Dataset(name, Digit, features, labels, DigitsMat.ClassNames);
    }

    private sealed class CountingProgress : IProgress<BatchProgress>
    {
        public int Batches { get; private set; }

        public void Report(BatchProgress value) => Batches++;
    }
}
