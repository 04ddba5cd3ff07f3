using DigitNet.Data;
using DigitNet.Kernels;
using DigitNet.Losses;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Experiments;

/// <summary>What a trial produced; epochs of a fine-tuning stage follow those of the first stage.</summary>
/// <param name="Epochs">
/// Metrics after each epoch. For a diverged trial, only the epochs before the first one whose
/// metrics became NaN or infinite.
/// </param>
/// <param name="BestEpoch">The epoch whose weights were tested, or null for a diverged trial.</param>
/// <param name="StopReason">Why the last stage stopped; <see cref="StopReason.Diverged"/> when either stage diverged.</param>
/// <param name="TrainSeconds">Seconds spent in training steps of both stages, without evaluation.</param>
/// <param name="Test">Test metrics of the final network, or null for a diverged trial.</param>
/// <param name="Architecture">The layer list of the trained network.</param>
/// <param name="ParameterCount">Number of parameter values (weights and biases) in the network.</param>
/// <param name="FineTuneStartEpoch">The first epoch number of the fine-tuning stage, or null when that stage did not run.</param>
public sealed record TrialResult(
    IReadOnlyList<EpochMetrics> Epochs,
    int? BestEpoch,
    StopReason StopReason,
    double TrainSeconds,
    EvaluationResult? Test,
    string Architecture,
    int ParameterCount,
    int? FineTuneStartEpoch)
{
    /// <summary>Whether a loss became NaN or infinite, so the trial has no test result.</summary>
    public bool Diverged => StopReason == StopReason.Diverged;

    /// <summary>The first epoch in which a loss became NaN or infinite, or null when the trial did not diverge.</summary>
    public int? DivergedEpoch => Diverged ? Epochs.Count + 1 : null;
}

/// <summary>Runs one <see cref="SweepTrial"/>: a training run, followed for fine-tuning trials by a second stage that trains only the last layer.</summary>
public static class TrialRunner
{
    /// <summary>
    /// Runs <paramref name="trial"/> on <paramref name="data"/> (raw pixels). Returns null when
    /// <paramref name="cancellation"/> stopped it, so an interrupted trial leaves no result.
    /// A trial whose training loss, epoch metrics or test metrics became NaN or infinite returns a
    /// diverged result (<see cref="TrialResult.Diverged"/>), and a first stage that diverged
    /// skips the fine-tuning stage.
    /// </summary>
    public static TrialResult? Run(
        SweepTrial trial, DataSplits data,
        Func<TrainingOptions, Dataset, Preprocessing, IAugmentation?>? augmentationFactory = null,
        CancellationToken cancellation = default)
    {
        var outcome = TrainingRun.Run(trial.Options, data, augmentationFactory: augmentationFactory, cancellation: cancellation);
        if (outcome.Training.StopReason == StopReason.Cancelled) return null;

        var architecture = outcome.Network.Architecture.LayersText;
        int parameterCount = outcome.Network.ParameterValues.Length;
        var first = outcome.Training;
        if (IsDiverged(first, outcome.Test))
            return DivergedResult(first.Epochs, first.TrainSeconds, architecture, parameterCount, fineTuneStartEpoch: null);
        if (trial.FineTune is null)
        {
            return new TrialResult(first.Epochs, first.BestEpoch, first.StopReason,
                first.TrainSeconds, outcome.Test, architecture, parameterCount, null);
        }

        var second = FineTuneLastLayer(outcome, trial.FineTune, data, augmentationFactory, cancellation);
        if (second.StopReason == StopReason.Cancelled) return null;
        int offset = first.Epochs.Count;
        var epochs = first.Epochs.Concat(second.Epochs.Select(m => m with { Epoch = m.Epoch + offset })).ToList();
        double trainSeconds = first.TrainSeconds + second.TrainSeconds;
        var test = new Evaluator(outcome.Network, outcome.Loss).Evaluate(outcome.Preprocessing.Apply(data.Test));
        if (IsDiverged(second, test))
            return DivergedResult(epochs, trainSeconds, architecture, parameterCount, offset + 1);
        return new TrialResult(epochs, second.BestEpoch + offset, second.StopReason,
            trainSeconds, test, architecture, parameterCount, offset + 1);
    }

    /// <summary>
    /// Returns whether the trainer stopped on a NaN or infinite training loss, or an epoch's metrics
    /// or the test metrics are not finite. The last happens when the final update of an epoch
    /// overflows the weights, after every training loss of the epoch was finite.
    /// </summary>
    private static bool IsDiverged(TrainingResult training, EvaluationResult test) =>
        training.StopReason == StopReason.Diverged || !IsFinite(test) || !training.Epochs.All(IsFinite);

    private static bool IsFinite(EvaluationResult test) => double.IsFinite(test.Loss) && double.IsFinite(test.Accuracy);

    private static bool IsFinite(EpochMetrics m) =>
        double.IsFinite(m.TrainLoss) && double.IsFinite(m.TrainAccuracy) && double.IsFinite(m.ValidLoss)
        && double.IsFinite(m.ValidAccuracy) && double.IsFinite(m.LearningRate);

    /// <summary>Returns the result of a diverged trial: the epochs before the first non-finite one, and no test metrics.</summary>
    private static TrialResult DivergedResult(IReadOnlyList<EpochMetrics> epochs, double trainSeconds, string architecture,
        int parameterCount, int? fineTuneStartEpoch)
    {
        var finite = epochs.TakeWhile(IsFinite).ToList();
        return new TrialResult(finite, null, StopReason.Diverged, trainSeconds, null, architecture, parameterCount, fineTuneStartEpoch);
    }

    /// <summary>
    /// Freezes every parameter except those of the last layer that has parameters, then trains the
    /// network of <paramref name="outcome"/> again with <paramref name="options"/>.
    /// </summary>
    public static TrainingResult FineTuneLastLayer(
        RunOutcome outcome, TrainingOptions options, DataSplits data,
        Func<TrainingOptions, Dataset, Preprocessing, IAugmentation?>? augmentationFactory,
        CancellationToken cancellation)
    {
        var network = outcome.Network;
        FineTuning.Freeze(network, trainLayers: 1);

        // NOTE: the second stage trains on the original images only, also when the first stage added rotated copies.
        var train = outcome.Preprocessing.Apply(data.Train);
        var valid = outcome.Preprocessing.Apply(data.Valid);
        var optimizer = TrainingRun.BuildOptimizer(options, network.Parameters);

        // A generator family of its own, so the second stage does not replay the first stage's shuffles.
        var random = new RunRandom(unchecked(options.Seed * 0x9E3779B97F4A7C15UL + 0x5851F42D4C957F2DUL));
        network.SetDropoutRandom(random.Dropout);
        using var workers = new WorkerPool(TrainingRun.ThreadCount(options));
        network.Workers = workers;
        try
        {
            var trainer = new Trainer(network, outcome.Loss, optimizer, options, random)
            {
                Augmentation = augmentationFactory?.Invoke(options, train, outcome.Preprocessing),
            };
            return trainer.Fit(train, valid, cancellation);
        }
        finally
        {
            network.Workers = null;
        }
    }

    /// <summary>
    /// Applies to every trial the checks that <see cref="TrainingRun.CheckSettings"/> makes before
    /// training (a bad layer list, a class count mismatch, a layer list that does not end in a
    /// sigmoid under squared error, a batch size that leaves a batch too small for batch
    /// normalisation), and the batch size and optimiser checks of the fine-tuning stage, so that
    /// such settings fail before any trial runs.
    /// </summary>
    /// <param name="trials">The trials to check. The first invalid one raises the exception.</param>
    /// <param name="sampleShape">Shape of one input sample, such as <c>[1, 16, 16]</c>.</param>
    /// <param name="classes">Number of classes in the data.</param>
    /// <param name="trainCount">Samples in the training split, before any rotated copies.</param>
    /// <param name="describe">
    /// Returns the text that identifies a trial's row after its id in messages, such as the sweep,
    /// row label and seed. Without it, messages name the trial by its id alone.
    /// </param>
    /// <exception cref="OptionException">
    /// A trial's settings fail a check. The message starts with <see cref="Identify"/> of the trial.
    /// </exception>
    public static void CheckNetworks(IEnumerable<SweepTrial> trials, TensorShape sampleShape, int classes, int trainCount,
        Func<SweepTrial, string>? describe = null)
    {
        foreach (var trial in trials)
        {
            Models.Network network;
            try
            {
                network = TrainingRun.CheckSettings(trial.Options, sampleShape, classes, trainCount);
            }
            catch (OptionException e)
            {
                throw new OptionException($"{Identify(trial, describe?.Invoke(trial))}: {e.Message}");
            }

            if (trial.FineTune is null) continue;
            try
            {
                // The second stage trains the first stage's network on the original samples only.
                Trainer.CheckBatchSize(network, trial.FineTune.BatchSize, trainCount);
                _ = TrainingRun.BuildOptimizer(trial.FineTune, network.Parameters);
            }
            catch (OptionException e)
            {
                throw new OptionException($"{Identify(trial, describe?.Invoke(trial))}, fine-tuning stage: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Returns how messages name a trial: its id and, in brackets, <paramref name="description"/>
    /// of its row when there is one, such as <c>trial 9e49cabca3420fb6 (lr 0.5 seed 1)</c>.
    /// </summary>
    public static string Identify(SweepTrial trial, string? description) =>
        description is null ? $"trial {trial.Id}" : $"trial {trial.Id} ({description})";
}
