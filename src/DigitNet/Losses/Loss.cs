using DigitNet.Tensors;

namespace DigitNet.Losses;

/// <summary>
/// A classification loss on the network output <c>[N, K]</c> and integer labels <c>[N]</c>. The
/// value is the mean over the batch, and the gradient written is that of the mean.
/// </summary>
public abstract class Loss
{
    /// <summary>Name used in options and model files (<c>mse</c>, <c>cross-entropy</c>).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Returns the mean loss of the batch and, when <paramref name="gradient"/> is not null, writes
    /// <c>dL/doutput</c> into it (reshaped to the output's shape).
    /// </summary>
    public abstract double Compute(Tensor output, ReadOnlySpan<byte> labels, Tensor? gradient);

    /// <summary>Converts one output row into class probabilities (or scores that rank like them).</summary>
    public abstract void ToProbabilities(ReadOnlySpan<float> output, Span<float> probabilities);

    /// <summary>Creates a loss from its option name.</summary>
    public static Loss FromName(string name) => name switch
    {
        "mse" => new MeanSquaredError(),
        "cross-entropy" => new SoftmaxCrossEntropy(),
        _ => throw new ArgumentException($"unknown loss '{name}'; expected mse or cross-entropy"),
    };

    /// <summary>Throws unless output is <c>[N, K]</c> with one label per row, each below K.</summary>
    protected static void CheckShapes(Tensor output, ReadOnlySpan<byte> labels)
    {
        if (output.Shape.Rank != 2)
            throw new ArgumentException($"loss: expected output [N, K], got {output.Shape}");
        if (output.Shape[0] != labels.Length)
            throw new ArgumentException($"loss: output has {output.Shape[0]} rows but there are {labels.Length} labels");
        int classes = output.Shape[1];
        foreach (byte label in labels)
        {
            if (label >= classes)
                throw new ArgumentException($"loss: label {label} is outside 0..{classes - 1}");
        }
    }
}
