using DigitNet.Data;
using DigitNet.Serialization;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Training;

public sealed class FineTuningTests
{
    [Fact]
    public void FrozenBatchNormKeepsRunningStatistics()
    {
        var data = DigitsMat.Load(TestData.DigitsMatPath);
        var options = new TrainingOptions
        {
            Layers = "dense 32, batchnorm, relu, dense 10", Loss = "cross-entropy", BatchSize = 3, Epochs = 1, Threads = 1,
        };
        var outcome = TrainingRun.Run(options, data);
        var model = new LoadedModel(outcome.Network, outcome.Preprocessing, outcome.Loss, DigitsMat.ClassNames, null);
        float[] mean = model.Network.FindParameter("batchnorm1.running_mean")!.Value.ToArray();
        float[] variance = model.Network.FindParameter("batchnorm1.running_var")!.Value.ToArray();

        var result = FineTuning.Run(model, options with { LearningRate = 0.01, Momentum = 0.9, Patience = 0 }, data, trainLayers: 1);

        // Restoring the loaded weights would hide a change, so the run must keep the trained ones.
        Assert.False(result.KeptOriginal, "fine-tuning kept the loaded weights, so the check proves nothing");
        Assert.Equal(["dense2"], result.TrainedLayers);
        Assert.Equal(mean, model.Network.FindParameter("batchnorm1.running_mean")!.Value.ToArray());
        Assert.Equal(variance, model.Network.FindParameter("batchnorm1.running_var")!.Value.ToArray());
    }
}
