using DigitNet.Data;
using DigitNet.Experiments;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Experiments;

public class TrialRunnerTests
{
    private static readonly Lazy<DataSplits> Digits = new(() => DigitsMat.Load(TestData.DigitsMatPath));

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

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], new DigitNet.Tensors.TensorShape(1, 16, 16), 10));

        Assert.Contains("10 classes", error.Message);
    }

    [Fact]
    public void UnknownLayerKindFailsCheck()
    {
        var options = Tiny with { Layers = "flatten, bogus, dense 10" };
        var trial = new SweepTrial(0, SweepTrial.ComputeId(options, null), options, null);

        var error = Assert.Throws<OptionException>(() => TrialRunner.CheckNetworks([trial], new DigitNet.Tensors.TensorShape(1, 16, 16), 10));

        Assert.StartsWith($"trial {trial.Id} (flatten, bogus, dense 10): unknown layer kind 'bogus'", error.Message);
    }
}
