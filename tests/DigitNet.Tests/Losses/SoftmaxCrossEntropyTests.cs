using DigitNet.Losses;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Losses;

public sealed class SoftmaxCrossEntropyTests(ITestOutputHelper output)
{
    /// <summary>
    /// Naive double-precision <c>mean_n (log sum_k exp(z[n, k]) - z[n, label])</c>, shifted by the
    /// row maximum so that it stays finite. z is <c>[N, K]</c>.
    /// </summary>
    public static double Reference(double[] z, byte[] labels, int classes)
    {
        double total = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            var row = z.AsSpan(n * classes, classes);
            double max = double.NegativeInfinity;
            foreach (double v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (double v in row) sum += Math.Exp(v - max);
            total += max + Math.Log(sum) - row[labels[n]];
        }
        return total / labels.Length;
    }

    [Theory]
    [MemberData(nameof(MeanSquaredErrorTests.Shapes), MemberType = typeof(MeanSquaredErrorTests))]
    public void GradientsMatchReference(int batch, int classes)
    {
        var random = new RandomSource(61, (ulong)(batch * 100 + classes));
        var z = GradientCheck.RandomTensor(new TensorShape(batch, classes), random, -4, 4);
        byte[] labels = MeanSquaredErrorTests.RandomLabels(batch, classes, random);
        var gradient = new Tensor(new TensorShape(1));

        double loss = new SoftmaxCrossEntropy().Compute(z, labels, gradient);

        double[] zd = GradientCheck.ToDouble(z.Span);
        double expected = Reference(zd, labels, classes);
        double[] numerical = GradientCheck.CentralDifferences(() => Reference(zd, labels, classes), zd);
        var report = new GradientReport($"cross-entropy [{batch}, {classes}]");
        report.Add(GradientCheck.Compare("loss", [(float)loss], [expected], GradientCheck.DefaultForwardTolerance));
        report.Add(GradientCheck.Compare("logits", gradient.Span, numerical, GradientCheck.DefaultGradientTolerance, z.Shape));
        output.WriteLine($"cross-entropy [{batch}, {classes}]: max error {report.MaxError:E2}");
        output.WriteLine(report.ToString());
        Assert.Equal(z.Shape, gradient.Shape);
        report.AssertPassed();
    }

    [Theory]
    [InlineData(1e4f, 0f, 0, 0.0, 0.0)]
    [InlineData(1e4f, 0f, 1, 1e4, 0.0)]
    [InlineData(-1e4f, 0f, 0, 1e4, 0.0)]
    [InlineData(-1e4f, 0f, 1, 0.0, 0.0)]
    [InlineData(1e30f, 0f, 0, 0.0, 0.0)]
    [InlineData(1e30f, 0f, 1, (double)1e30f, 0.0)]
    [InlineData(-1e30f, 0f, 0, (double)1e30f, 0.0)]
    public void HugeLogitsGiveFiniteLoss(float first, float second, byte label, double expected, double tolerance)
    {
        var z = new Tensor(new TensorShape(1, 2), [first, second]);
        var gradient = new Tensor(new TensorShape(1, 2));

        double loss = new SoftmaxCrossEntropy().Compute(z, [label], gradient);

        Assert.True(double.IsFinite(loss), $"loss is {loss}");
        Assert.Equal(expected, loss, tolerance);
        Assert.All(gradient.Span.ToArray(), g => Assert.True(float.IsFinite(g), $"gradient {g} is not finite"));
        Assert.Equal(0f, gradient.Span[0] + gradient.Span[1]);
    }

    [Fact]
    public void HugeEqualLogitsKeepPrecision()
    {
        // The loss log(2) and the gradient (-1/2, 1/2) are both representable to float32
        // precision, however large the shared logit is.
        var z = new Tensor(new TensorShape(1, 2), [1e4f, 1e4f]);
        var gradient = new Tensor(new TensorShape(1, 2));

        double loss = new SoftmaxCrossEntropy().Compute(z, [0], gradient);

        Assert.Equal(Math.Log(2), loss, 1e-6);
        Assert.Equal(-0.5f, gradient.Span[0], 1e-6f);
        Assert.Equal(0.5f, gradient.Span[1], 1e-6f);
    }

    [Fact]
    public void HugeLogitsGiveSoftmaxGradient()
    {
        // Both rows put all probability on class 0. Row 0 is labelled 0 (no gradient), row 1 is
        // labelled 1, so its gradient is (1, -1) divided by the batch size of 2.
        var z = new Tensor(new TensorShape(2, 2), [1e4f, 0f, 1e4f, 0f]);
        var gradient = new Tensor(new TensorShape(2, 2));

        double loss = new SoftmaxCrossEntropy().Compute(z, [0, 1], gradient);

        Assert.Equal(5e3, loss, 1e-6);
        Assert.Equal([0f, 0f, 0.5f, -0.5f], gradient.Span.ToArray());
    }

    [Fact]
    public void EqualLogitsGiveLogOfClassCount()
    {
        var z = new Tensor(new TensorShape(3, 10));
        z.Span.Fill(7);

        double loss = new SoftmaxCrossEntropy().Compute(z, [0, 4, 9], null);

        Assert.Equal(Math.Log(10), loss, 1e-6);
    }

    [Fact]
    public void ProbabilitiesAreSoftmax()
    {
        float[] logits = [1e4f, 1e4f - 1, -1e4f];
        var probabilities = new float[3];

        new SoftmaxCrossEntropy().ToProbabilities(logits, probabilities);

        double e = Math.Exp(-1);
        Assert.Equal(1 / (1 + e), probabilities[0], 1e-6);
        Assert.Equal(e / (1 + e), probabilities[1], 1e-6);
        Assert.Equal(0f, probabilities[2]);
    }

    [Fact]
    public void LabelOutsideClassesThrows()
    {
        var z = new Tensor(new TensorShape(1, 10));

        var error = Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropy().Compute(z, [10], null));
        Assert.Contains("label 10", error.Message);
    }

    [Fact]
    public void NonMatrixOutputThrows()
    {
        var z = new Tensor(new TensorShape(1, 2, 5));

        Assert.Throws<ArgumentException>(() => new SoftmaxCrossEntropy().Compute(z, [0], null));
    }
}
