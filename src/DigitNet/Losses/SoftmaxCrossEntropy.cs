using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Losses;

/// <summary>
/// Softmax followed by cross-entropy, fused on the logits <c>z</c>:
/// <c>L = mean_n (logsumexp(z[n]) - z[n, label])</c> and <c>dL/dz = (softmax(z) - onehot) / N</c>.
/// Computing from logits with log-sum-exp stays finite for logits of any magnitude.
/// </summary>
public sealed class SoftmaxCrossEntropy : Loss
{
    private float[] _scratch = [];

    public override string Name => "cross-entropy";

    public override double Compute(Tensor output, ReadOnlySpan<byte> labels, Tensor? gradient)
    {
        CheckShapes(output, labels);
        int n = output.Shape[0], k = output.Shape[1];
        if (_scratch.Length < k) _scratch = new float[k];
        var scratch = _scratch.AsSpan(0, k);
        var z = output.Span;
        gradient?.Reshape(output.Shape);
        float scale = 1f / n;

        double total = 0;
        for (int row = 0; row < n; row++)
        {
            var logits = z.Slice(row * k, k);

            // Work with shifted logits z - max, so that the log-sum-exp is small and keeps full
            // float precision however large the logits are: with logSum = log(sum(exp(z - max)))
            // the loss is logSum - (z[label] - max) and the softmax is exp(z - max - logSum).
            float max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
            float logSum = Elementwise.ShiftedLogSumExp(logits, max, scratch);
            total += logSum - (logits[labels[row]] - max);

            if (gradient is null) continue;
            var dz = gradient.Span.Slice(row * k, k);
            for (int c = 0; c < k; c++)
                dz[c] = MathF.Exp(logits[c] - max - logSum) * scale;
            dz[labels[row]] -= scale;
        }
        return total / n;
    }

    public override void ToProbabilities(ReadOnlySpan<float> output, Span<float> probabilities) =>
        Elementwise.Softmax(output, probabilities, 1);
}
