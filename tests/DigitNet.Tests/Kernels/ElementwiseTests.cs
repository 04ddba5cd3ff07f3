using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Tests.Kernels;

/// <summary>
/// Compares every element-wise kernel with a naive loop on each length from 0 to 70, which covers
/// empty spans, scalar tails and the vector widths 4, 8 and 16 plus or minus one. Kernels that
/// reject or fail on an empty span sweep from 1, and the empty span has its own test.
/// </summary>
public sealed class ElementwiseTests
{
    private const int MaxLength = 70;

    /// <summary>Relative tolerance for a float32 kernel against its double reference: a few units in the last place.</summary>
    private const double Ulps = 5e-7;

    [Fact]
    public void SigmoidBackwardMatchesNaive()
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var random = new RandomSource(71, (ulong)n);
            float[] y = RandomArray(n, random, 0, 1);
            float[] dy = RandomArray(n, random, -2, 2);
            var dx = new float[n];

            Elementwise.SigmoidBackward(y, dy, dx);

            for (int i = 0; i < n; i++)
                AssertClose((double)dy[i] * y[i] * (1 - (double)y[i]), dx[i], n, i);
        }
    }

    [Fact]
    public void TanhBackwardMatchesNaive()
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var random = new RandomSource(72, (ulong)n);
            float[] y = RandomArray(n, random, -1, 1);
            float[] dy = RandomArray(n, random, -2, 2);
            var dx = new float[n];

            Elementwise.TanhBackward(y, dy, dx);

            // 1 - y^2 cancels for |y| near 1, so the rounding of y^2 in float32 is measured
            // against the size of the terms, |dy| (1 + y^2), not against the result.
            for (int i = 0; i < n; i++)
            {
                double expected = dy[i] * (1 - (double)y[i] * y[i]);
                double scale = Math.Abs(dy[i]) * (1 + (double)y[i] * y[i]);
                Assert.True(Math.Abs(dx[i] - expected) <= Ulps * scale, $"length {n}, element {i}: got {dx[i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void ReluBackwardMatchesNaive()
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var random = new RandomSource(73, (ulong)n);
            float[] y = RandomArray(n, random, -1, 1);
            for (int i = 0; i < n; i += 3) y[i] = 0;
            float[] dy = RandomArray(n, random, -2, 2);
            var dx = new float[n];

            Elementwise.ReluBackward(y, dy, dx);

            for (int i = 0; i < n; i++)
                Assert.True(dx[i] == (y[i] > 0 ? dy[i] : 0f), $"length {n}, element {i}: dx {dx[i]} for y {y[i]}, dy {dy[i]}");
        }
    }

    [Fact]
    public void BackwardKernelsWorkInPlace()
    {
        // dx may be the same span as dy, which lets a caller reuse the incoming gradient buffer.
        for (int n = 0; n <= MaxLength; n++)
        {
            var random = new RandomSource(74, (ulong)n);
            float[] y = RandomArray(n, random, 0, 1);
            float[] dy = RandomArray(n, random, -2, 2);
            float[] expected = new float[n], inPlace = (float[])dy.Clone();

            Elementwise.SigmoidBackward(y, dy, expected);
            Elementwise.SigmoidBackward(y, inPlace, inPlace);

            Assert.True(expected.AsSpan().SequenceEqual(inPlace), $"length {n}: in-place result differs");
        }
    }

    [Fact]
    public void BackwardKernelsRejectLengthMismatch()
    {
        var a = new float[9];
        var b = new float[8];

        Assert.Throws<ArgumentException>(() => Elementwise.SigmoidBackward(a, a, b));
        Assert.Throws<ArgumentException>(() => Elementwise.TanhBackward(a, b, a));
        Assert.Throws<ArgumentException>(() => Elementwise.ReluBackward(b, a, a));
    }

    [Fact]
    public void ForwardKernelsMatchNaive()
    {
        for (int n = 1; n <= MaxLength; n++)
        {
            var random = new RandomSource(75, (ulong)n);
            float[] x = RandomArray(n, random, -8, 8);
            float[] sigmoid = new float[n], tanh = new float[n], relu = new float[n];

            Elementwise.Sigmoid(x, sigmoid);
            Elementwise.Tanh(x, tanh);
            Elementwise.Relu(x, relu);

            for (int i = 0; i < n; i++)
            {
                AssertClose(1 / (1 + Math.Exp(-x[i])), sigmoid[i], n, i, 1e-6);

                // The vector path of TensorPrimitives.Tanh (System.Numerics.Tensors 10.0.0) is
                // accurate to about 6e-8 absolute, not relative, near 0: it returns 5.96e-8 for
                // tanh(1e-7). The scalar tail is accurate, so only lengths of 8 and more show it.
                double tanhExpected = Math.Tanh(x[i]);
                Assert.True(Math.Abs(tanh[i] - tanhExpected) <= 1e-6 * Math.Abs(tanhExpected) + 1e-7,
                    $"length {n}, element {i}: tanh {tanh[i]}, expected {tanhExpected}");
                Assert.True(relu[i] == Math.Max(x[i], 0f), $"length {n}, element {i}: relu {relu[i]} for x {x[i]}");
            }
        }
    }

    [Fact]
    public void TanhAndReluAcceptEmptySpans()
    {
        Elementwise.Tanh(ReadOnlySpan<float>.Empty, Span<float>.Empty);
        Elementwise.Relu(ReadOnlySpan<float>.Empty, Span<float>.Empty);
    }

    [Fact]
    public void SigmoidAcceptsEmptySpan()
    {
        // Tanh, ReLU and the backward kernels map an empty span to an empty span, and so must a
        // Sigmoid layer given a batch of 0 samples.
        Elementwise.Sigmoid(ReadOnlySpan<float>.Empty, Span<float>.Empty);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void SumRowsMatchesNaive(int rows)
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var random = new RandomSource(76, (ulong)(rows * 100 + n));
            float[] x = RandomArray(rows * n, random, -1, 1);
            float[] sums = RandomArray(n, random, -1, 1);

            Elementwise.SumRows(x, rows, sums);

            for (int c = 0; c < n; c++)
            {
                double expected = 0, magnitude = 0;
                for (int r = 0; r < rows; r++)
                {
                    expected += x[r * n + c];
                    magnitude += Math.Abs(x[r * n + c]);
                }
                Assert.True(Math.Abs(sums[c] - expected) <= Ulps * magnitude,
                    $"rows {rows}, length {n}, column {c}: sum {sums[c]}, expected {expected}");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void AddRowVectorMatchesNaive(int rows)
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var random = new RandomSource(77, (ulong)(rows * 100 + n));
            float[] y = RandomArray(rows * n, random, -1, 1);
            float[] bias = RandomArray(n, random, -1, 1);
            float[] original = (float[])y.Clone();

            Elementwise.AddRowVector(y, bias, rows);

            // One float addition per element rounds the same way in any implementation.
            for (int i = 0; i < y.Length; i++)
                Assert.True(y[i] == original[i] + bias[i % n], $"rows {rows}, length {n}, element {i}: {y[i]}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 1)]
    [InlineData(1, 1e4)]
    public void SoftmaxMatchesNaive(int rows, double scale)
    {
        for (int n = 1; n <= MaxLength; n++)
        {
            var random = new RandomSource(78, (ulong)(rows * 100 + n));
            float[] logits = RandomArray(rows * n, random, -10 * scale, 10 * scale);
            var probabilities = new float[rows * n];

            Elementwise.Softmax(logits, probabilities, rows);

            for (int r = 0; r < rows; r++)
            {
                double[] expected = NaiveSoftmax(logits.AsSpan(r * n, n));
                for (int c = 0; c < n; c++)
                {
                    // exp(z - max) inherits the float32 rounding of z - max as a relative error.
                    float actual = probabilities[r * n + c];
                    double shift = Math.Abs(logits[r * n + c] - (double)logits.AsSpan(r * n, n).ToArray().Max());
                    Assert.True(Math.Abs(actual - expected[c]) <= Ulps * (4 + shift) * expected[c] + 1e-30,
                        $"rows {rows}, length {n}, row {r}, column {c}: probability {actual}, expected {expected[c]}");
                }
            }
        }
    }

    [Fact]
    public void SoftmaxOfNoRowsWritesNothing()
    {
        var probabilities = new float[] { 42 };

        Elementwise.Softmax(ReadOnlySpan<float>.Empty, probabilities.AsSpan(0, 0), rows: 0);

        Assert.Equal(42f, probabilities[0]);
    }

    [Fact]
    public void SoftmaxRejectsEmptyRow()
    {
        // A row of no classes has no maximum to shift by, and the kernel rejects it.
        Assert.Throws<ArgumentException>(() => Elementwise.Softmax(ReadOnlySpan<float>.Empty, Span<float>.Empty, rows: 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1e4)]
    [InlineData(-1e4)]
    public void LogSumExpMatchesNaive(double offset)
    {
        for (int n = 1; n <= MaxLength; n++)
        {
            var random = new RandomSource(79, (ulong)n);
            float[] row = RandomArray(n, random, offset - 10, offset + 10);
            var scratch = new float[n];

            float actual = Elementwise.LogSumExp(row, scratch);

            double max = row.Max();
            double expected = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            // The result is a float32 near the offset, so its spacing at 1e4 (about 1e-3) bounds the error there.
            double tolerance = 2 * (MathF.BitIncrement(MathF.Abs((float)expected)) - MathF.Abs((float)expected));
            Assert.True(Math.Abs(actual - expected) <= tolerance,
                $"offset {offset}, length {n}: log-sum-exp {actual}, expected {expected}");
        }
    }

    [Fact]
    public void LogSumExpOfInfinities()
    {
        var scratch = new float[3];

        Assert.Equal(float.PositiveInfinity, Elementwise.LogSumExp([1f, float.PositiveInfinity, 2f], scratch));
        Assert.Equal(float.NegativeInfinity, Elementwise.LogSumExp([float.NegativeInfinity, float.NegativeInfinity], scratch.AsSpan(0, 2)));
        Assert.Equal(3f, Elementwise.LogSumExp([float.NegativeInfinity, 3f], scratch.AsSpan(0, 2)));
    }

    [Fact]
    public void LogSumExpRejectsEmptyRow()
    {
        Assert.Throws<ArgumentException>(() => Elementwise.LogSumExp(ReadOnlySpan<float>.Empty, Span<float>.Empty));
    }

    private static double[] NaiveSoftmax(ReadOnlySpan<float> row)
    {
        double max = double.NegativeInfinity;
        foreach (float v in row) max = Math.Max(max, v);
        var result = new double[row.Length];
        double sum = 0;
        for (int i = 0; i < row.Length; i++) sum += result[i] = Math.Exp(row[i] - max);
        for (int i = 0; i < row.Length; i++) result[i] /= sum;
        return result;
    }

    private static float[] RandomArray(int length, RandomSource random, double low, double high)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)random.Uniform(low, high);
        return values;
    }

    private static void AssertClose(double expected, float actual, int length, int index, double tolerance = Ulps)
    {
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected) + 1e-30,
            $"length {length}, element {index}: got {actual}, expected {expected}");
    }
}
