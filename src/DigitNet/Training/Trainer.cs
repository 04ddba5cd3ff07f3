using System.Diagnostics;
using DigitNet.Data;
using DigitNet.Layers;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Optimizers;
using DigitNet.Tensors;

namespace DigitNet.Training;

/// <summary>
/// Mini-batch training of a <see cref="Network"/>: shuffles the training split every epoch,
/// applies augmentation, steps the optimiser, evaluates on the validation split after each epoch,
/// and stops early with the best weights restored when validation stops improving. Model
/// selection uses the validation split only; the test split is never seen here.
/// </summary>
public sealed class Trainer
{
    private readonly Network _network;
    private readonly Loss _loss;
    private readonly Optimizer _optimizer;
    private readonly LearningRateSchedule _schedule;
    private readonly TrainingOptions _options;
    private readonly RandomSource _shuffleRandom;
    private readonly RandomSource _augmentRandom;
    private readonly Evaluator _evaluator;

    /// <summary>Creates a trainer; it takes the shuffling and augmentation generators from <paramref name="random"/>.</summary>
    public Trainer(Network network, Loss loss, Optimizer optimizer, TrainingOptions options, RunRandom random)
    {
        _network = network;
        _loss = loss;
        _optimizer = optimizer;
        _options = options;
        _schedule = new LearningRateSchedule(options.Schedule, options.LearningRate, options.Epochs,
            options.Warmup, options.StepEvery, options.StepFactor);
        _shuffleRandom = random.Shuffle;
        _augmentRandom = random.Augmentation;
        _evaluator = new Evaluator(network, loss);
    }

    /// <summary>Transformation applied to each training sample as it is drawn; null for none.</summary>
    public IAugmentation? Augmentation { get; init; }

    /// <summary>Called after each batch; use it to draw a progress bar.</summary>
    public IProgress<BatchProgress>? BatchProgress { get; init; }

    /// <summary>Called after each epoch with its metrics.</summary>
    public Action<EpochMetrics>? EpochCompleted { get; init; }

    /// <summary>
    /// Trains on <paramref name="train"/>, selecting the best epoch on <paramref name="valid"/>.
    /// The optimiser runs on the network's worker pool for the duration of the call.
    /// </summary>
    public TrainingResult Fit(Dataset train, Dataset valid, CancellationToken cancellation = default)
    {
        var previousWorkers = _optimizer.Workers;
        _optimizer.Workers = _network.Workers;
        try
        {
            return FitEpochs(train, valid, cancellation);
        }
        finally
        {
            _optimizer.Workers = previousWorkers;
        }
    }

    private TrainingResult FitEpochs(Dataset train, Dataset valid, CancellationToken cancellation)
    {
        if (train.SampleShape != _network.InputShape)
            throw new ArgumentException($"{train.Name}: samples have shape {train.SampleShape}, the network expects {_network.InputShape}");
        if (train.Count == 0)
            throw new ArgumentException($"{train.Name}: the training split is empty");
        CheckBatchSize(_network, _options.BatchSize, train.Count);

        int batchSize = Math.Min(_options.BatchSize, train.Count);
        int batches = (train.Count + batchSize - 1) / batchSize;
        int sampleSize = train.SampleShape.Size;
        var order = new int[train.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var input = new Tensor(train.SampleShape.WithBatch(batchSize));
        var outputGradient = new Tensor(_network.OutputShape.WithBatch(batchSize));
        var labels = new byte[batchSize];

        var history = new List<EpochMetrics>();
        bool lossIsMetric = _options.StopOn == "loss";
        double bestScore = double.NegativeInfinity;
        int bestEpoch = 0;
        float[]? bestWeights = null;
        int epochsWithoutImprovement = 0;
        var stopReason = StopReason.Completed;
        double trainSeconds = 0;

        for (int epoch = 0; epoch < _options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            _shuffleRandom.Shuffle(order);
            double learningRate = _optimizer.LearningRate;
            bool diverged = false;

            for (int batch = 0; batch < batches; batch++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    stopReason = StopReason.Cancelled;
                    break;
                }
                int start = batch * batchSize;
                int n = Math.Min(batchSize, train.Count - start);
                FillBatch(train, order.AsSpan(start, n), input, labels, sampleSize);

                learningRate = _schedule.RateAt(epoch, epoch + (batch + 1.0) / batches);
                _optimizer.LearningRate = learningRate;
                var output = _network.Forward(input, training: true);
                double loss = _loss.Compute(output, labels.AsSpan(0, n), outputGradient);
                if (!double.IsFinite(loss))
                {
                    diverged = true;
                    break;
                }
                _network.Backward(outputGradient);
                _optimizer.Step();
                BatchProgress?.Report(new BatchProgress(epoch + 1, _options.Epochs, batch + 1, batches));
            }

            clock.Stop();
            trainSeconds += clock.Elapsed.TotalSeconds;
            if (stopReason == StopReason.Cancelled) break;
            if (diverged)
            {
                stopReason = StopReason.Diverged;
                break;
            }

            var trainResult = _evaluator.Evaluate(train);
            var validResult = _evaluator.Evaluate(valid);
            var metrics = new EpochMetrics(epoch + 1, trainResult.Loss, trainResult.Accuracy,
                validResult.Loss, validResult.Accuracy, learningRate, clock.Elapsed.TotalSeconds);
            history.Add(metrics);
            EpochCompleted?.Invoke(metrics);

            // Higher is better for the score, so the loss enters negated. Ties keep the earlier epoch.
            double score = lossIsMetric ? -validResult.Loss : validResult.Accuracy;
            if (score > bestScore)
            {
                bestScore = score;
                bestEpoch = epoch + 1;
                epochsWithoutImprovement = 0;
                if (_options.Patience > 0)
                {
                    bestWeights ??= new float[_network.ParameterValues.Length];
                    _network.ParameterValues.CopyTo(bestWeights, 0);
                }
            }
            else if (_options.Patience > 0 && ++epochsWithoutImprovement >= _options.Patience)
            {
                stopReason = StopReason.EarlyStopped;
                break;
            }
        }

        if (_options.Patience > 0 && bestWeights is not null)
        {
            _network.RestoreParameters(bestWeights);
        }
        else if (history.Count > 0)
        {
            // Without early stopping the final weights are kept, so the final epoch is the one reported.
            bestEpoch = history[^1].Epoch;
        }
        return new TrainingResult(history, bestEpoch, stopReason, trainSeconds);
    }

    /// <summary>
    /// Checks that splitting <paramref name="trainCount"/> samples into batches of
    /// <paramref name="batchSize"/> leaves no batch, the last of an epoch included, smaller than a
    /// layer of <paramref name="network"/> needs in training (<see cref="Layer.MinTrainingBatchSize"/>).
    /// <see cref="Fit"/> runs this check, and callers can run it earlier, before costly preparation.
    /// </summary>
    /// <param name="network">The network to train.</param>
    /// <param name="batchSize">Samples per update, as in <see cref="TrainingOptions.BatchSize"/>.</param>
    /// <param name="trainCount">Samples in the training split, rotated copies included.</param>
    /// <param name="countDetail">
    /// What the sample count is made of, such as <c>5000 plus 5000 rotated copies</c>, for the
    /// message; null for none.
    /// </param>
    /// <exception cref="OptionException">
    /// A batch would be too small for a layer. The message names the layer, the batch size and the
    /// sample count, and suggests batch sizes that work.
    /// </exception>
    public static void CheckBatchSize(Network network, int batchSize, int trainCount, string? countDetail = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (trainCount <= 0) return;

        // The first layer with the largest minimum is the one whose forward pass would fail first.
        var layer = network.Layers.MaxBy(l => l.MinTrainingBatchSize);
        if (layer is null) return;
        int minimum = layer.MinTrainingBatchSize;
        if (!LeavesSmallBatch(batchSize, trainCount, minimum)) return;

        string samples = $"{trainCount} training {(trainCount == 1 ? "sample" : "samples")}{(countDetail is null ? "" : $" ({countDetail})")}";
        string need = $"layer {layer.Name} ({layer.Describe()}) needs at least {minimum} samples in every training batch to estimate the batch variance";
        if (trainCount < minimum)
            throw new OptionException($"{need}, but the training split has only {samples}; train on at least {minimum} samples or remove the layer");

        int size = Math.Min(batchSize, trainCount);
        string problem = size < minimum
            ? $"the {samples} are split into batches of {size}"
            : $"the {samples} in batches of {batchSize} leave a last batch of {trainCount % size}";
        string tooSmall = minimum == 2 ? "of 1" : $"of fewer than {minimum}";
        throw new OptionException(
            $"--batch-size {batchSize}: {need}, but {problem}; choose a batch size of at least {minimum} that does not leave a last batch {tooSmall}, such as {SuggestBatchSizes(batchSize, trainCount, minimum)}");
    }

    /// <summary>Returns whether some batch, the last one included, has fewer than <paramref name="minimum"/> samples.</summary>
    private static bool LeavesSmallBatch(int batchSize, int trainCount, int minimum)
    {
        // Fit uses one batch of all samples when the batch size is larger than the split.
        int size = Math.Min(batchSize, trainCount);
        int last = trainCount % size;
        return size < minimum || (last != 0 && last < minimum);
    }

    /// <summary>
    /// Returns the nearest working batch sizes below and above <paramref name="batchSize"/>, such as
    /// "2 or 4". One batch of every sample always works when there are at least <paramref name="minimum"/>.
    /// </summary>
    private static string SuggestBatchSizes(int batchSize, int trainCount, int minimum)
    {
        var sizes = new List<int>(2);
        for (int size = Math.Min(batchSize, trainCount) - 1; size >= minimum; size--)
        {
            if (LeavesSmallBatch(size, trainCount, minimum)) continue;
            sizes.Add(size);
            break;
        }
        for (int size = batchSize + 1; size <= trainCount; size++)
        {
            if (LeavesSmallBatch(size, trainCount, minimum)) continue;
            sizes.Add(size);
            break;
        }
        return string.Join(" or ", sizes);
    }

    private void FillBatch(Dataset train, ReadOnlySpan<int> indices, Tensor input, byte[] labels, int sampleSize)
    {
        input.Reshape(train.SampleShape.WithBatch(indices.Length));
        var destination = input.Span;
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            var target = destination.Slice(i * sampleSize, sampleSize);
            if (Augmentation is null) train.Sample(index).CopyTo(target);
            else Augmentation.Apply(train.Sample(index), target, _augmentRandom);
            labels[i] = train.Labels[index];
        }
    }
}
