using DigitNet.Data;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Tensors;

namespace DigitNet.Training;

/// <summary>Loss and accuracy of a network on a whole data set.</summary>
public readonly record struct EvaluationResult(double Loss, double Accuracy, int Correct, int Count);

/// <summary>
/// Runs a network in inference mode over a data set in fixed-size batches. Buffers are kept
/// between calls, so evaluating every epoch allocates nothing after the first call.
/// </summary>
public sealed class Evaluator
{
    private readonly Network _network;
    private readonly Loss _loss;
    private readonly int _batchSize;
    private Tensor? _input;

    public Evaluator(Network network, Loss loss, int batchSize = 500)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _network = network;
        _loss = loss;
        _batchSize = batchSize;
    }

    /// <summary>
    /// Evaluates <paramref name="data"/>. When given, <paramref name="predictions"/> receives the
    /// predicted class of each sample and <paramref name="probabilities"/> (<c>[Count, K]</c>) the
    /// class probabilities.
    /// </summary>
    public EvaluationResult Evaluate(Dataset data, Span<int> predictions = default, Span<float> probabilities = default)
    {
        if (data.SampleShape != _network.InputShape)
            throw new ArgumentException($"{data.Name}: samples have shape {data.SampleShape}, the network expects {_network.InputShape}");
        int classes = _network.ClassCount;
        if (!predictions.IsEmpty && predictions.Length != data.Count)
            throw new ArgumentException($"predictions span has {predictions.Length} entries for {data.Count} samples");
        if (!probabilities.IsEmpty && probabilities.Length != data.Count * classes)
            throw new ArgumentException($"probabilities span has {probabilities.Length} entries for {data.Count} x {classes}");

        int sampleSize = data.SampleShape.Size;
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < data.Count; start += _batchSize)
        {
            int n = Math.Min(_batchSize, data.Count - start);
            var shape = data.SampleShape.WithBatch(n);
            if (_input is null) _input = new Tensor(shape);
            else _input.Reshape(shape);
            data.Features.AsSpan(start * sampleSize, n * sampleSize).CopyTo(_input.Span);

            var output = _network.Forward(_input, training: false);
            var labels = data.Labels.AsSpan(start, n);
            lossSum += _loss.Compute(output, labels, gradient: null) * n;

            var scores = output.Span;
            for (int i = 0; i < n; i++)
            {
                var row = scores.Slice(i * classes, classes);
                int predicted = ArgMax(row);
                if (predicted == labels[i]) correct++;
                if (!predictions.IsEmpty) predictions[start + i] = predicted;
                if (!probabilities.IsEmpty) _loss.ToProbabilities(row, probabilities.Slice((start + i) * classes, classes));
            }
        }
        int count = Math.Max(data.Count, 1);
        return new EvaluationResult(lossSum / count, (double)correct / count, correct, data.Count);
    }

    /// <summary>Index of the largest value; the first one on ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }
        return best;
    }
}
