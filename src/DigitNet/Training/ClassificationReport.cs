namespace DigitNet.Training;

/// <summary>
/// Precision, recall and F1 of one class, and its support (the number of samples whose true class
/// it is). A rate is NaN when its denominator is zero.
/// </summary>
public sealed record ClassMetrics(int Class, double Precision, double Recall, double F1, int Support);

/// <summary>A misclassified sample: its index in the data set, true and predicted class, and the probability given to each.</summary>
public sealed record Mistake(int Index, int TrueClass, int PredictedClass, double Confidence, double TrueClassProbability);

/// <summary>
/// Per-class metrics of a classifier on one data set: the confusion matrix (rows are true classes,
/// columns predicted classes), precision and recall per class, and the mistakes ranked by the
/// probability the model gave its wrong answer.
/// </summary>
public sealed class ClassificationReport
{
    private readonly Mistake[] _mistakes;

    private ClassificationReport(int[,] confusion, ClassMetrics[] perClass, Mistake[] mistakes)
    {
        Confusion = confusion;
        PerClass = perClass;
        _mistakes = mistakes;
    }

    /// <summary>Counts <c>[true, predicted]</c>, <c>K x K</c>.</summary>
    public int[,] Confusion { get; }

    /// <summary>One entry per class, in class order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>Every mistake, the most confident first.</summary>
    public IReadOnlyList<Mistake> Mistakes => _mistakes;

    /// <summary>
    /// Builds the report from true <paramref name="labels"/>, <paramref name="predictions"/> and
    /// <paramref name="probabilities"/> (<c>[N, K]</c> row-major, as <see cref="Evaluator.Evaluate"/> fills them).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not agree or a class index is outside 0..K-1.</exception>
    public static ClassificationReport Create(ReadOnlySpan<byte> labels, ReadOnlySpan<int> predictions, ReadOnlySpan<float> probabilities, int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        if (predictions.Length != labels.Length || probabilities.Length != labels.Length * classCount)
        {
            throw new ArgumentException(
                $"{labels.Length} labels need {labels.Length} predictions and {labels.Length * classCount} probabilities, got {predictions.Length} and {probabilities.Length}");
        }

        var confusion = new int[classCount, classCount];
        var mistakes = new List<Mistake>();
        for (int i = 0; i < labels.Length; i++)
        {
            int truth = labels[i], predicted = predictions[i];
            if (truth >= classCount || predicted < 0 || predicted >= classCount)
                throw new ArgumentException($"sample {i}: class {truth} or prediction {predicted} is outside 0..{classCount - 1}");
            confusion[truth, predicted]++;
            if (truth != predicted)
            {
                var row = probabilities.Slice(i * classCount, classCount);
                mistakes.Add(new Mistake(i, truth, predicted, row[predicted], row[truth]));
            }
        }

        // Most confident first; ties keep data-set order so the report is deterministic.
        var ranked = mistakes.OrderByDescending(m => m.Confidence).ThenBy(m => m.Index).ToArray();
        return new ClassificationReport(confusion, PerClassMetrics(confusion), ranked);
    }

    private static ClassMetrics[] PerClassMetrics(int[,] confusion)
    {
        int classes = confusion.GetLength(0);
        var metrics = new ClassMetrics[classes];
        for (int k = 0; k < classes; k++)
        {
            int truePositives = confusion[k, k];
            int predictedAsK = 0, actuallyK = 0;
            for (int j = 0; j < classes; j++)
            {
                predictedAsK += confusion[j, k];
                actuallyK += confusion[k, j];
            }
            double precision = predictedAsK > 0 ? (double)truePositives / predictedAsK : double.NaN;
            double recall = actuallyK > 0 ? (double)truePositives / actuallyK : double.NaN;
            double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : double.NaN;
            metrics[k] = new ClassMetrics(k, precision, recall, f1, actuallyK);
        }
        return metrics;
    }
}
