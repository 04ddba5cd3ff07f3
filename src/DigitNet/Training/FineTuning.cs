using DigitNet.Data;
using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Serialization;

namespace DigitNet.Training;

/// <summary>
/// What a fine-tuning run did and measured. <c>TrainedLayers</c> names the layers whose parameters
/// were trained (every other parameter stayed frozen). <c>KeptOriginal</c> is true when no epoch
/// beat the loaded model on the validation metric, so the loaded weights were kept unchanged.
/// </summary>
public sealed record FineTuneOutcome(
    EvaluationResult TestBefore,
    EvaluationResult ValidBefore,
    EvaluationResult TestAfter,
    EvaluationResult ValidAfter,
    TrainingResult Training,
    IReadOnlyList<string> TrainedLayers,
    bool KeptOriginal);

/// <summary>
/// Retrains the last layers of a loaded model on new or the same data, with every other parameter
/// frozen. Selection uses the validation split only, and the result is never worse on the
/// validation metric than the loaded model: if no epoch beats it, its weights are restored.
/// </summary>
public static class FineTuning
{
    /// <summary>
    /// Freezes every parameter of <paramref name="network"/> except those of the last
    /// <paramref name="trainLayers"/> layers that have parameters; returns those layers. A frozen
    /// batch normalisation layer keeps its running statistics too and normalises with them in
    /// training (<see cref="BatchNorm.UsesRunningStatistics"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainLayers"/> is below 1 or above the number of layers with parameters.</exception>
    public static IReadOnlyList<Layer> Freeze(Models.Network network, int trainLayers)
    {
        var withParameters = network.Layers.Where(layer => layer.Parameters.Count > 0).ToList();
        if (trainLayers < 1 || trainLayers > withParameters.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(trainLayers), trainLayers,
                $"--train-layers must be from 1 to {withParameters.Count}, the number of layers with parameters ({string.Join(", ", withParameters.Select(l => l.Name))})");
        }

        var trained = withParameters.Skip(withParameters.Count - trainLayers).ToList();
        foreach (var layer in withParameters)
        {
            bool train = trained.Contains(layer);
            foreach (var parameter in layer.Parameters) parameter.Frozen = !train;
        }
        return trained;
    }

    /// <summary>
    /// Fine-tunes <paramref name="model"/> in place on <paramref name="data"/> (raw pixels; the
    /// model's own preprocessing is applied). Architecture settings in <paramref name="options"/>
    /// are ignored; the optimiser, schedule, epochs, batch size, patience, stop metric, seed and
    /// threads are used.
    /// </summary>
    /// <exception cref="OptionException">The batch size leaves a training batch too small for a layer of the model, such as a 1-D batch normalisation that is fine-tuned, with a batch of 1.</exception>
    /// <exception cref="InvalidOperationException">A frozen parameter changed during training, which would be a bug in an optimiser or layer.</exception>
    public static FineTuneOutcome Run(
        LoadedModel model, TrainingOptions options, DataSplits data, int trainLayers,
        IProgress<BatchProgress>? batchProgress = null, Action<EpochMetrics>? epochCompleted = null,
        Func<TrainingOptions, Dataset, Preprocessing, IAugmentation?>? augmentationFactory = null,
        CancellationToken cancellation = default)
    {
        var network = model.Network;
        var trained = Freeze(network, trainLayers);
        try
        {
            // Checked after freezing, because a frozen batch normalisation needs no batch variance
            // and so accepts a last batch of 1.
            Trainer.CheckBatchSize(network, options.BatchSize, data.Train.Count);
            return Train(model, options, data, trained, batchProgress, epochCompleted, augmentationFactory, cancellation);
        }
        finally
        {
            foreach (var parameter in network.Parameters) parameter.Frozen = false;
        }
    }

    private static FineTuneOutcome Train(
        LoadedModel model, TrainingOptions options, DataSplits data, IReadOnlyList<Layer> trained,
        IProgress<BatchProgress>? batchProgress, Action<EpochMetrics>? epochCompleted,
        Func<TrainingOptions, Dataset, Preprocessing, IAugmentation?>? augmentationFactory,
        CancellationToken cancellation)
    {
        var network = model.Network;
        var train = model.Preprocessing.Apply(data.Train);
        var valid = model.Preprocessing.Apply(data.Valid);
        var test = model.Preprocessing.Apply(data.Test);

        var original = network.SnapshotParameters();
        var random = new RunRandom(options.Seed);
        network.SetDropoutRandom(random.Dropout);

        using var workers = new WorkerPool(TrainingRun.ThreadCount(options));
        network.Workers = workers;
        try
        {
            var evaluator = new Evaluator(network, model.Loss);
            var testBefore = evaluator.Evaluate(test);
            var validBefore = evaluator.Evaluate(valid);

            var optimizer = TrainingRun.BuildOptimizer(options, network.Parameters);
            var trainer = new Trainer(network, model.Loss, optimizer, options, random)
            {
                Augmentation = augmentationFactory?.Invoke(options, train, model.Preprocessing),
                BatchProgress = batchProgress,
                EpochCompleted = epochCompleted,
            };
            var result = trainer.Fit(train, valid, cancellation);

            // The trainer picks the best epoch it saw, but that epoch may still be worse than the
            // loaded model; the loaded weights then win.
            var validAfter = evaluator.Evaluate(valid);
            bool keepOriginal = !Improves(validAfter, validBefore, options.StopOn) || result.StopReason == StopReason.Diverged;
            if (keepOriginal)
            {
                network.RestoreParameters(original);
                validAfter = validBefore;
            }
            var testAfter = keepOriginal ? testBefore : evaluator.Evaluate(test);

            CheckFrozenUnchanged(network, original);
            return new FineTuneOutcome(testBefore, validBefore, testAfter, validAfter, result,
                trained.Select(layer => layer.Name).ToList(), keepOriginal);
        }
        finally
        {
            network.Workers = null;
        }
    }

    private static bool Improves(EvaluationResult after, EvaluationResult before, string stopOn) =>
        stopOn == "loss" ? after.Loss < before.Loss : after.Accuracy > before.Accuracy;

    /// <summary>Checks every frozen parameter, running statistics included, against <paramref name="original"/>.</summary>
    private static void CheckFrozenUnchanged(Models.Network network, float[] original)
    {
        int offset = 0;
        foreach (var parameter in network.Parameters)
        {
            if (parameter.Frozen && !parameter.Value.SequenceEqual(original.AsSpan(offset, parameter.Length)))
                throw new InvalidOperationException($"frozen parameter {parameter.Name} changed during fine-tuning");
            offset += parameter.Length;
        }
    }
}
