namespace DigitNet.Training;

/// <summary>Metrics of one epoch. Train metrics are measured after the epoch, in inference mode, on the whole training split.</summary>
public sealed record EpochMetrics(
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double ValidLoss,
    double ValidAccuracy,
    double LearningRate,
    double Seconds);

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
