using DigitNet.Data;
using DigitNet.Experiments;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Experiments;

public class TrialRunnerTests
{
    private static readonly Lazy<DataSplits> Digits = new(() => DigitsMat.Load(TestData.DigitsMatPath));

    private static readonly DigitNet.Tensors.TensorShape Shape = new(1, 16, 16);

    private static readonly TrainingOptions Tiny = new() { Hidden = [8], Epochs = 1, BatchSize = 50, LearningRate = 0.5, Threads = 1 };

    [Fact]
    public void SameTrialGivesSameMetrics()
    {
        var trial = new SweepTrial(0, SweepTrial.ComputeId(Tiny, null), Tiny, null);

        var first = TrialRunner.Run(trial, Digits.Value)!;
        var second = TrialRunner.Run(trial, Digits.Value)!;

        Assert.Equal(first.Test, second.Test);
        Assert.Equal(first.Epochs.Select(e => (e.TrainLoss, e.ValidLoss, e.ValidAccuracy)), second.Epochs.Select(e => (e.TrainLoss, e.ValidLoss, e.ValidAccuracy)));
    }

    [Fact]
    public void FineTuningChangesOnlyLastLayer()
    {
        var outcome = TrainingRun.Run(Tiny, Digits.Value);
        var network = outcome.Network;
        var before = network.Parameters.ToDictionary(p => p.Name, p => p.Value.ToArray());
        var lastLayer = network.Layers.Last(l => l.Parameters.Count > 0);

        var result = TrialRunner.FineTuneLastLayer(outcome, Tiny with { Epochs = 2, LearningRate = 0.2 }, Digits.Value, null, default);

        Assert.Equal(2, result.Epochs.Count);
        foreach (var parameter in network.Parameters)
        {
            bool changed = !parameter.Value.SequenceEqual(before[parameter.Name]);
            bool trainable = lastLayer.Parameters.Contains(parameter);
            Assert.True(changed == trainable, $"{parameter.Name}: changed {changed}, expected {(trainable ? "changed" : "unchanged")}");
        }
    }

    [Fact]
    public void FineTuneTrialContinuesEpochNumbers()
    {
        var fineTune = Tiny with { Epochs = 2, LearningRate = 0.1 };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(Tiny, fineTune), Tiny, fineTune);

        var result = TrialRunner.Run(trial, Digits.Value)!;

        Assert.Equal([1, 2, 3], result.Epochs.Select(e => e.Epoch));
        Assert.Equal(2, result.FineTuneStartEpoch);
        Assert.Equal(3, result.BestEpoch);
    }

    [Fact]
    public void CancelledTrialHasNoResult()
    {
        var trial = new SweepTrial(0, SweepTrial.ComputeId(Tiny, null), Tiny, null);

        Assert.Null(TrialRunner.Run(trial, Digits.Value, cancellation: new CancellationToken(canceled: true)));
    }

    [Fact]
    public void InvalidLayerListFailsCheck()
    {
        var options = Tiny with { Layers = "dense 8, relu, dense 3" };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, null), options, null);

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], Shape, 10, 5000));

        Assert.Contains("10 classes", error.Message);
    }

    [Fact]
    public void UnknownLayerKindFailsCheck()
    {
        var options = Tiny with { Layers = "flatten, bogus, dense 10" };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, null), options, null);

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], Shape, 10, 5000, _ => "layers flatten, bogus, dense 10 seed 1"));

        Assert.StartsWith($"trial {trial.Id} (layers flatten, bogus, dense 10 seed 1): --layers: unknown layer kind 'bogus'", error.Message);
    }

    [Fact]
    public void MseWithoutSigmoidFailsCheck()
    {
        var options = Tiny with { Layers = "dense 10" };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, null), options, null);

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], Shape, 10, 5000, _ => "bl5 dense 10 seed 1"));

        Assert.StartsWith($"trial {trial.Id} (bl5 dense 10 seed 1): --layers: with --loss mse the layer list must end in 'sigmoid'", error.Message);
    }

    [Fact]
    public void BatchSizeErrorNamesRow()
    {
        var options = Tiny with { Layers = "dense 8, batchnorm, relu, dense 10", Loss = "cross-entropy", BatchSize = 1 };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, null), options, null);

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], Shape, 10, 5000, _ => "bs 1 seed 1"));

        Assert.StartsWith($"trial {trial.Id} (bs 1 seed 1): --batch-size 1: layer batchnorm1", error.Message);
    }

    [Fact]
    public void FineTuneBatchSizeErrorNamesRow()
    {
        var options = Tiny with { Layers = "dense 8, batchnorm, relu, dense 10", Loss = "cross-entropy" };
        var fineTune = options with { BatchSize = 1 };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, fineTune), options, fineTune);

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], Shape, 10, 5000, _ => "ft base seed 1"));

        Assert.StartsWith($"trial {trial.Id} (ft base seed 1), fine-tuning stage: --batch-size 1:", error.Message);
    }

    [Fact]
    public void DivergedTrialHasNoTestResult()
    {
        var options = Tiny with { Layers = "dense 10, dense 10", Loss = "cross-entropy", BatchSize = 1, LearningRate = 0.2 };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, null), options, null);

        var result = TrialRunner.Run(trial, Digits.Value)!;

        Assert.True(result.Diverged);
        Assert.Null(result.Test);
        Assert.Null(result.BestEpoch);
        Assert.Equal(1, result.DivergedEpoch);
        Assert.Empty(result.Epochs);
    }

    [Fact]
    public void DivergedFineTuneRecordRoundTrips()
    {
        var options = Tiny with { Layers = "dense 8, relu, dense 10", Loss = "cross-entropy", LearningRate = 0.1 };
        var fineTune = options with { LearningRate = 1e38, Momentum = 0.99, Epochs = 2 };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, fineTune), options, fineTune);

        var result = TrialRunner.Run(trial, Digits.Value)!;
        var record = TrialRecord.Parse(TrialRecord.Create(trial, result).ToJsonLine());

        Assert.True(result.Diverged);
        Assert.Equal(2, result.FineTuneStartEpoch);
        Assert.Equal(2, result.DivergedEpoch);
        Assert.True(record.Diverged);
        Assert.Null(record.TestAccuracy);
        Assert.Null(record.TestLoss);
        Assert.Null(record.BestEpoch);
        Assert.Equal([1], record.Epochs.Select(e => e.Epoch));
        Assert.Equal(2, record.Json["diverged_epoch"]!.GetValue<int>());
    }
}
