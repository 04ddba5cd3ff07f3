using DigitNet.Data;
using DigitNet.Kernels;
using DigitNet.Losses;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Experiments;

/// <summary>What a trial produced; epochs of a fine-tuning stage follow those of the first stage.</summary>
public sealed record TrialResult(
    IReadOnlyList<EpochMetrics> Epochs,
    int BestEpoch,
    StopReason StopReason,
    double TrainSeconds,
    EvaluationResult Test,
    string Architecture,
    int ParameterCount,
    int? FineTuneStartEpoch);

/// <summary>Runs one <see cref="SweepTrial"/>: a training run, followed for fine-tuning trials by a second stage that trains only the last layer.</summary>
public static class TrialRunner
{
    /// <summary>
    /// Runs <paramref name="trial"/> on <paramref name="data"/> (raw pixels). Returns null when
    /// <paramref name="cancellation"/> stopped it, so an interrupted trial leaves no result.
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
        if (trial.FineTune is null)
        {
            return new TrialResult(outcome.Training.Epochs, outcome.Training.BestEpoch, outcome.Training.StopReason,
                outcome.Training.TrainSeconds, outcome.Test, architecture, parameterCount, null);
        }

        var second = FineTuneLastLayer(outcome, trial.FineTune, data, augmentationFactory, cancellation);
        if (second.StopReason == StopReason.Cancelled) return null;
        int offset = outcome.Training.Epochs.Count;
        var epochs = outcome.Training.Epochs.Concat(second.Epochs.Select(m => m with { Epoch = m.Epoch + offset })).ToList();
        var test = new Evaluator(outcome.Network, outcome.Loss).Evaluate(outcome.Preprocessing.Apply(data.Test));
        return new TrialResult(epochs, second.BestEpoch + offset, second.StopReason,
            outcome.Training.TrainSeconds + second.TrainSeconds, test, architecture, parameterCount, offset + 1);
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
    /// Builds the network of every trial without training it, so that settings which only fail when
    /// the network is assembled (a bad layer list, a class count mismatch, a batch size that leaves a
    /// batch too small for batch normalisation) fail before any trial runs.
    /// </summary>
    /// <param name="trials">The trials to check. The first invalid one raises the exception.</param>
    /// <param name="sampleShape">Shape of one input sample, such as <c>[1, 16, 16]</c>.</param>
    /// <param name="classes">Number of classes in the data.</param>
    /// <param name="trainCount">Samples in the training split, before any rotated copies; null skips the batch size check.</param>
    /// <exception cref="OptionException">A trial's settings describe no valid network, or no valid batch size for it.</exception>
    public static void CheckNetworks(IEnumerable<SweepTrial> trials, TensorShape sampleShape, int classes, int? trainCount = null)
    {
        foreach (var trial in trials)
        {
            Models.Network network;
            try
            {
                network = new Models.Network(TrainingRun.BuildArchitecture(trial.Options, sampleShape, classes));
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new OptionException($"trial {trial.Id} ({trial.Options.Layers ?? "hidden " + string.Join(",", trial.Options.Hidden)}): {e.Message}");
            }
            if (network.ClassCount != classes)
                throw new OptionException($"trial {trial.Id}: the last layer outputs {network.ClassCount} values but the data has {classes} classes");
            _ = TrainingRun.ParseInit(trial.Options.Init);
            _ = Loss.FromName(trial.Options.Loss);
            if (trainCount is { } count) CheckBatchSizes(trial, network, count);
        }
    }

    /// <summary>
    /// Checks the batch size of the first stage, which trains on the rotated copies too, and that of
    /// the fine-tuning stage, which trains on the original samples only.
    /// </summary>
    private static void CheckBatchSizes(SweepTrial trial, Models.Network network, int trainCount)
    {
        var options = trial.Options;
        try
        {
            int copies = options.RotatedCopies.Count;
            string? countDetail = copies == 0 ? null : $"{trainCount} plus {copies * trainCount} rotated copies";
            Trainer.CheckBatchSize(network, options.BatchSize, trainCount * (copies + 1), countDetail);
        }
        catch (OptionException e)
        {
            throw new OptionException($"trial {trial.Id}: {e.Message}");
        }

        if (trial.FineTune is null) return;
        try
        {
            Trainer.CheckBatchSize(network, trial.FineTune.BatchSize, trainCount);
        }
        catch (OptionException e)
        {
            throw new OptionException($"trial {trial.Id}, fine-tuning stage: {e.Message}");
        }
    }
}
