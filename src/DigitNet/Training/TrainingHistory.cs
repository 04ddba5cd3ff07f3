using System.Text.Json.Nodes;

namespace DigitNet.Training;

/// <summary>Metrics of one epoch. Train metrics are measured after the epoch, in inference mode, on the whole training split.</summary>
public sealed record EpochMetrics(
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double ValidLoss,
    double ValidAccuracy,
    double LearningRate,
    double Seconds)
{
    /// <summary>
    /// Converts epochs to the JSON array that metrics files and sweep results share:
    /// <c>epoch</c>, <c>train_loss</c>, <c>train_accuracy</c>, <c>valid_loss</c>,
    /// <c>valid_accuracy</c>, <c>learning_rate</c> and <c>seconds</c> per entry.
    /// </summary>
    public static JsonArray ToJson(IEnumerable<EpochMetrics> epochs)
    {
        var array = new JsonArray();
        foreach (var m in epochs)
        {
            array.Add(new JsonObject
            {
                ["epoch"] = m.Epoch,
                ["train_loss"] = m.TrainLoss,
                ["train_accuracy"] = m.TrainAccuracy,
                ["valid_loss"] = m.ValidLoss,
                ["valid_accuracy"] = m.ValidAccuracy,
                ["learning_rate"] = m.LearningRate,
                ["seconds"] = m.Seconds,
            });
        }
        return array;
    }
}

/// <summary>Progress inside an epoch, reported after each batch.</summary>
public readonly record struct BatchProgress(int Epoch, int Epochs, int Batch, int Batches);

/// <summary>Why training ended.</summary>
public enum StopReason
{
    /// <summary>All epochs ran.</summary>
    Completed,
    /// <summary>Validation did not improve for <see cref="TrainingOptions.Patience"/> epochs.</summary>
    EarlyStopped,
    /// <summary>The training loss became NaN or infinite; the best weights so far were restored.</summary>
    Diverged,
    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>The outcome of <see cref="Trainer.Fit"/>.</summary>
public sealed record TrainingResult(
    IReadOnlyList<EpochMetrics> Epochs,
    int BestEpoch,
    StopReason StopReason,
    double TrainSeconds);
