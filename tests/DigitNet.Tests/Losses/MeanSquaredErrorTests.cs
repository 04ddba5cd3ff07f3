using DigitNet.Losses;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Losses;

public sealed class MeanSquaredErrorTests(ITestOutputHelper output)
{
    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int batch in new[] { 1, 3, 7 })
        {
            foreach (int classes in new[] { 1, 5, 17, 33 }) data.Add(batch, classes);
        }
        return data;
    }

    /// <summary>
    /// Naive double-precision <c>mean_n 1/2 sum_k (y[n, k] - t[n, k])^2</c> with one-hot targets
    /// <c>t</c>, where y is <c>[N, K]</c>.
    /// </summary>
    public static double Reference(double[] y, byte[] labels, int classes)
    {
        double total = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            for (int k = 0; k < classes; k++)
            {
                double diff = y[n * classes + k] - (k == labels[n] ? 1 : 0);
                total += 0.5 * diff * diff;
            }
        }
        return total / labels.Length;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientsMatchReference(int batch, int classes)
    {
        var random = new RandomSource(51, (ulong)(batch * 100 + classes));
        var y = GradientCheck.RandomTensor(new TensorShape(batch, classes), random, -0.5, 1.5);
        byte[] labels = RandomLabels(batch, classes, random);
        var gradient = new Tensor(new TensorShape(1));

        double loss = new MeanSquaredError().Compute(y, labels, gradient);

        double[] yd = GradientCheck.ToDouble(y.Span);
        double expected = Reference(yd, labels, classes);
        double[] numerical = GradientCheck.CentralDifferences(() => Reference(yd, labels, classes), yd);
        var report = new GradientReport($"mse [{batch}, {classes}]");
        report.Add(GradientCheck.Compare("loss", [(float)loss], [expected], GradientCheck.DefaultForwardTolerance));
        report.Add(GradientCheck.Compare("output", gradient.Span, numerical, GradientCheck.DefaultGradientTolerance, y.Shape));
        output.WriteLine($"mse [{batch}, {classes}]: max error {report.MaxError:E2}");
        output.WriteLine(report.ToString());
        Assert.Equal(y.Shape, gradient.Shape);
        report.AssertPassed();
    }

    [Fact]
    public void PerfectOutputHasZeroLoss()
    {
        var y = new Tensor(new TensorShape(2, 3), [0, 1, 0, 1, 0, 0]);
        var gradient = new Tensor(new TensorShape(2, 3));

        double loss = new MeanSquaredError().Compute(y, [1, 0], gradient);

        Assert.Equal(0, loss);
        Assert.All(gradient.Span.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void HandComputedValue()
    {
        // Row 0 gives (0.5 - 1)^2 + 0.5^2 = 0.5 and row 1 gives 2^2 + (0 - 1)^2 = 5, so the mean
        // of the halves is (0.25 + 2.5) / 2.
        var y = new Tensor(new TensorShape(2, 2), [0.5f, 0.5f, 2f, 0f]);
        var gradient = new Tensor(new TensorShape(2, 2));

        double loss = new MeanSquaredError().Compute(y, [0, 1], gradient);

        Assert.Equal(1.375, loss, 1e-12);
        Assert.Equal([-0.25f, 0.25f, 1f, -0.5f], gradient.Span.ToArray());
    }

    [Fact]
    public void NullGradientOnlyComputesLoss()
    {
        var y = new Tensor(new TensorShape(1, 2), [0.5f, 0.5f]);

        Assert.Equal(0.25, new MeanSquaredError().Compute(y, [0], null), 1e-12);
    }

    [Fact]
    public void LabelOutsideClassesThrows()
    {
        var y = new Tensor(new TensorShape(2, 3));

        var error = Assert.Throws<ArgumentException>(() => new MeanSquaredError().Compute(y, [0, 3], null));
        Assert.Contains("label 3", error.Message);
    }

    [Fact]
    public void LabelCountMismatchThrows()
    {
        var y = new Tensor(new TensorShape(2, 3));

        Assert.Throws<ArgumentException>(() => new MeanSquaredError().Compute(y, [0], null));
    }

    [Fact]
    public void FromNameCreatesBothLosses()
    {
        Assert.IsType<MeanSquaredError>(Loss.FromName("mse"));
        Assert.IsType<SoftmaxCrossEntropy>(Loss.FromName("cross-entropy"));
        var error = Assert.Throws<ArgumentException>(() => Loss.FromName("hinge"));
        Assert.Contains("hinge", error.Message);
    }

    internal static byte[] RandomLabels(int batch, int classes, RandomSource random)
    {
        var labels = new byte[batch];
        for (int i = 0; i < batch; i++) labels[i] = (byte)random.NextInt(classes);
        return labels;
    }
}
