using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace DigitNet.Kernels;

/// <summary>
/// Element-wise forward and backward kernels for activations and losses. Forward passes call
/// <see cref="TensorPrimitives"/>; the fused backward formulas, which it has no single call for,
/// are written here with <see cref="Vector256{T}"/> and a scalar tail.
/// </summary>
public static class Elementwise
{
    /// <summary><c>y = 1 / (1 + exp(-x))</c>; saturates to 0 or 1 for large |x| without NaN.</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        // TensorPrimitives.Sigmoid rejects empty input, which the other kernels accept.
        if (x.IsEmpty && y.IsEmpty) return;
        TensorPrimitives.Sigmoid(x, y);
    }

    /// <summary><c>dx = dy * y * (1 - y)</c> from the sigmoid output <c>y</c>.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y.Length, dy.Length, dx.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1f);
            for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var yv = Vector256.Create(y.Slice(i, Vector256<float>.Count));
                var dyv = Vector256.Create(dy.Slice(i, Vector256<float>.Count));
                (dyv * yv * (one - yv)).CopyTo(dx.Slice(i));
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
    }

    /// <summary><c>y = tanh(x)</c>.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    /// <summary><c>dx = dy * (1 - y^2)</c> from the tanh output <c>y</c>.</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y.Length, dy.Length, dx.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1f);
            for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var yv = Vector256.Create(y.Slice(i, Vector256<float>.Count));
                var dyv = Vector256.Create(dy.Slice(i, Vector256<float>.Count));
                (dyv * (one - yv * yv)).CopyTo(dx.Slice(i));
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
    }

    /// <summary><c>y = max(x, 0)</c>.</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary><c>dx = dy</c> where the ReLU output <c>y</c> is positive, else 0.</summary>
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y.Length, dy.Length, dx.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= y.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var yv = Vector256.Create(y.Slice(i, Vector256<float>.Count));
                var dyv = Vector256.Create(dy.Slice(i, Vector256<float>.Count));
                Vector256.ConditionalSelect(Vector256.GreaterThan(yv, Vector256<float>.Zero), dyv, Vector256<float>.Zero)
                    .CopyTo(dx.Slice(i));
            }
        }
        for (; i < y.Length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
    }

    /// <summary>Adds <paramref name="bias"/> (length <c>n</c>) to every row of <paramref name="y"/> (<c>[m, n]</c>).</summary>
    public static void AddRowVector(Span<float> y, ReadOnlySpan<float> bias, int rows)
    {
        int n = bias.Length;
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * n, n);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary>Writes the column sums of <paramref name="x"/> (<c>[m, n]</c>) to <paramref name="sums"/> (length <c>n</c>).</summary>
    public static void SumRows(ReadOnlySpan<float> x, int rows, Span<float> sums)
    {
        int n = sums.Length;
        if (rows == 0)
        {
            sums.Clear();
            return;
        }
        x.Slice(0, n).CopyTo(sums);
        for (int r = 1; r < rows; r++)
            TensorPrimitives.Add(sums, x.Slice(r * n, n), sums);
    }

    /// <summary>
    /// Row-wise log-softmax pieces: for each row of <paramref name="logits"/> (<c>[m, n]</c>) writes the
    /// softmax probabilities to <paramref name="probabilities"/> and returns nothing else. Uses the
    /// max-shifted form, so no exponent overflows.
    /// </summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities, int rows)
    {
        int n = logits.Length / Math.Max(rows, 1);
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * n, n);
            var p = probabilities.Slice(r * n, n);
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, p);
            TensorPrimitives.Exp(p, p);
            float sum = TensorPrimitives.Sum(p);
            TensorPrimitives.Multiply(p, 1f / sum, p);
        }
    }

    /// <summary>
    /// <c>log(sum(exp(row)))</c> computed as <c>max + log(sum(exp(row - max)))</c>, exact for any magnitude.
    /// <paramref name="scratch"/> must be as long as <paramref name="row"/>.
    /// </summary>
    public static float LogSumExp(ReadOnlySpan<float> row, Span<float> scratch)
    {
        float max = TensorPrimitives.Max(row);
        if (float.IsInfinity(max)) return max;
        TensorPrimitives.Subtract(row, max, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        return max + MathF.Log(TensorPrimitives.Sum(scratch));
    }

    /// <summary>
    /// <c>log(sum(exp(row - max)))</c> for the row maximum <paramref name="max"/>: the log-sum-exp
    /// without its large <c>max</c> term, so it keeps full precision for logits of any magnitude.
    /// <paramref name="scratch"/> must be as long as <paramref name="row"/>.
    /// </summary>
    public static float ShiftedLogSumExp(ReadOnlySpan<float> row, float max, Span<float> scratch)
    {
        TensorPrimitives.Subtract(row, max, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        return MathF.Log(TensorPrimitives.Sum(scratch));
    }

    private static void CheckLengths(int a, int b, int c)
    {
        if (a != b || a != c)
            throw new ArgumentException($"element-wise kernel: span lengths differ ({a}, {b}, {c})");
    }
}
