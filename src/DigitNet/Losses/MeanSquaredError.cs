using DigitNet.Tensors;

namespace DigitNet.Losses;

/// <summary>
/// Squared error against one-hot targets in the classic backprop form:
/// <c>L = mean_n 1/2 sum_k (y[n, k] - t[n, k])^2</c>, so <c>dL/dy = (y - t) / N</c>.
/// The 1/2 and the sum over classes (not a mean) match the textbook update <c>dW = lr * delta * x</c>,
/// so PyTorch's <c>MSELoss</c> differs by a factor of <c>2 / K</c>.
/// </summary>
public sealed class MeanSquaredError : Loss
{
    public override string Name => "mse";

    public override double Compute(Tensor output, ReadOnlySpan<byte> labels, Tensor? gradient)
    {
        CheckShapes(output, labels);
        int n = output.Shape[0], k = output.Shape[1];
        var y = output.Span;
        gradient?.Reshape(output.Shape);
        var dy = gradient is null ? Span<float>.Empty : gradient.Span;
        float scale = 1f / n;

        double total = 0;
        for (int row = 0; row < n; row++)
        {
            int label = labels[row];
            for (int c = 0; c < k; c++)
            {
                int i = row * k + c;
                float diff = y[i] - (c == label ? 1f : 0f);
                total += 0.5 * diff * diff;
                if (!dy.IsEmpty) dy[i] = diff * scale;
            }
        }
        return total / n;
    }

    /// <summary>Output scores (sigmoid outputs in the classic network) scaled to sum to one.</summary>
    public override void ToProbabilities(ReadOnlySpan<float> output, Span<float> probabilities)
    {
        float sum = 0;
        for (int i = 0; i < output.Length; i++) sum += Math.Max(output[i], 0f);
        for (int i = 0; i < output.Length; i++)
            probabilities[i] = sum > 0 ? Math.Max(output[i], 0f) / sum : 1f / output.Length;
    }
}
