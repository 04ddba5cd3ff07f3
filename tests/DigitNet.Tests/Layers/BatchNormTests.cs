using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Models;
using DigitNet.Optimizers;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Layers;

public sealed class BatchNormTests(ITestOutputHelper output)
{
    private const double Epsilon = 1e-5;

    /// <summary>
    /// Naive batch normalisation over <c>[N, C, S]</c>: training mode uses the batch mean and
    /// biased variance of each channel, inference mode the running statistics.
    /// </summary>
    private static double[] Reference(double[] x, IReadOnlyList<double[]> p, int batch, int channels, int planeSize, bool training)
    {
        double[] gamma = p[0], beta = p[1], runningMean = p[2], runningVar = p[3];
        var y = new double[x.Length];
        int count = batch * planeSize;
        for (int c = 0; c < channels; c++)
        {
            double mean = runningMean[c], variance = runningVar[c];
            if (training)
            {
                mean = 0;
                for (int n = 0; n < batch; n++)
                for (int s = 0; s < planeSize; s++) mean += x[(n * channels + c) * planeSize + s];
                mean /= count;
                variance = 0;
                for (int n = 0; n < batch; n++)
                for (int s = 0; s < planeSize; s++) variance += Math.Pow(x[(n * channels + c) * planeSize + s] - mean, 2);
                variance /= count;
            }
            for (int n = 0; n < batch; n++)
            for (int s = 0; s < planeSize; s++)
            {
                int i = (n * channels + c) * planeSize + s;
                y[i] = gamma[c] * (x[i] - mean) / Math.Sqrt(variance + Epsilon) + beta[c];
            }
        }
        return y;
    }

    /// <summary>(batch, sample shape as C, H, W with H = W = 0 for 1-D).</summary>
    public static TheoryData<int, int, int, int> Shapes() => new()
    {
        { 4, 5, 0, 0 },
        { 7, 33, 0, 0 },
        { 3, 150, 0, 0 },
        { 2, 3, 4, 5 },
        { 3, 2, 1, 1 },
        { 5, 4, 3, 3 },
    };

    private static BatchNorm Create(int c, int h, int w, RandomSource random)
    {
        var shape = h == 0 ? new TensorShape(c) : new TensorShape(c, h, w);
        var layer = new BatchNorm("batchnorm1", shape);
        TestUtil.GradientCheck.Fill(layer.Scale.Value, random, 0.5, 1.5);
        TestUtil.GradientCheck.Fill(layer.Shift.Value, random);
        TestUtil.GradientCheck.Fill(layer.RunningMean.Value, random);
        TestUtil.GradientCheck.Fill(layer.RunningVariance.Value, random, 0.5, 2);
        return layer;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientCheckTraining(int batch, int c, int h, int w) => Check(batch, c, h, w, training: true, seed: 61);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientCheckInference(int batch, int c, int h, int w) => Check(batch, c, h, w, training: false, seed: 62);

    private void Check(int batch, int c, int h, int w, bool training, ulong seed)
    {
        var random = new RandomSource(seed);
        var layer = Create(c, h, w, random);
        using var workers = new WorkerPool(2);
        layer.Workers = workers;
        var x = TestUtil.GradientCheck.RandomTensor(layer.InputShape.WithBatch(batch), random, -2, 3);
        int planeSize = h == 0 ? 1 : h * w;

        // The forward pass moves the running statistics, so the reference must see them as they were.
        double[] runningMean = TestUtil.GradientCheck.ToDouble(layer.RunningMean.Value);
        double[] runningVar = TestUtil.GradientCheck.ToDouble(layer.RunningVariance.Value);
        var report = TestUtil.GradientCheck.CheckLayer(layer, x,
            (xd, p) => Reference(xd, [p[0], p[1], runningMean, runningVar], batch, c, planeSize, training),
            random, training);

        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    /// <summary>
    /// With frozen running statistics a training pass normalises with them, so dx and the gamma
    /// and beta gradients are those of the inference function. A layer before the batch norm that
    /// still trains depends on this dx.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientCheckFrozenStatistics(int batch, int c, int h, int w)
    {
        var random = new RandomSource(67);
        var layer = Create(c, h, w, random);
        layer.RunningMean.Frozen = true;
        layer.RunningVariance.Frozen = true;
        using var workers = new WorkerPool(2);
        layer.Workers = workers;
        var x = TestUtil.GradientCheck.RandomTensor(layer.InputShape.WithBatch(batch), random, -2, 3);
        int planeSize = h == 0 ? 1 : h * w;

        var report = TestUtil.GradientCheck.CheckLayer(layer, x,
            (xd, p) => Reference(xd, p, batch, c, planeSize, training: false),
            random, training: true);

        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void FrozenStatisticsStayInTraining(bool freezeMean, bool freezeVariance)
    {
        var random = new RandomSource(68);
        var layer = Create(3, 0, 0, random);
        layer.RunningMean.Frozen = freezeMean;
        layer.RunningVariance.Frozen = freezeVariance;
        float[] mean = layer.RunningMean.Value.ToArray();
        float[] variance = layer.RunningVariance.Value.ToArray();
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(4, 3), random, -2, 3);

        float[] inference = layer.Forward(x, training: false).Span.ToArray();
        float[] training = layer.Forward(x, training: true).Span.ToArray();

        Assert.True(layer.UsesRunningStatistics);
        Assert.Equal(mean, layer.RunningMean.Value.ToArray());
        Assert.Equal(variance, layer.RunningVariance.Value.ToArray());
        Assert.Equal(inference, training);
    }

    [Fact]
    public void FrozenStatisticsAcceptBatchOfOne()
    {
        var layer = new BatchNorm("batchnorm1", new TensorShape(4));
        layer.RunningMean.Frozen = true;
        layer.RunningVariance.Frozen = true;

        var y = layer.Forward(new Tensor(new TensorShape(1, 4)), training: true);

        Assert.Equal(1, layer.MinTrainingBatchSize);
        Assert.Equal(new TensorShape(1, 4), y.Shape);
    }

    [Fact]
    public void FrozenScaleKeepsBatchStatistics()
    {
        var random = new RandomSource(69);
        var layer = Create(3, 0, 0, random);
        layer.Scale.Frozen = true;
        layer.Shift.Frozen = true;
        float[] mean = layer.RunningMean.Value.ToArray();

        layer.Forward(TestUtil.GradientCheck.RandomTensor(new TensorShape(4, 3), random, -2, 3), training: true);

        Assert.False(layer.UsesRunningStatistics);
        Assert.NotEqual(mean, layer.RunningMean.Value.ToArray());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TrainingUpdatesRunningStatistics(int batch, int c, int h, int w)
    {
        var random = new RandomSource(63);
        var layer = Create(c, h, w, random);
        double[] before = TestUtil.GradientCheck.ToDouble(layer.RunningMean.Value);
        double[] beforeVar = TestUtil.GradientCheck.ToDouble(layer.RunningVariance.Value);
        var x = TestUtil.GradientCheck.RandomTensor(layer.InputShape.WithBatch(batch), random, -2, 3);
        int planeSize = h == 0 ? 1 : h * w, count = batch * planeSize;

        layer.Forward(x, training: true);

        var expectedMean = new double[c];
        var expectedVar = new double[c];
        for (int ch = 0; ch < c; ch++)
        {
            var values = new List<double>();
            for (int n = 0; n < batch; n++)
            for (int s = 0; s < planeSize; s++) values.Add(x.Span[(n * c + ch) * planeSize + s]);
            double mean = values.Average();
            double unbiased = values.Sum(v => (v - mean) * (v - mean)) / (count - 1);
            expectedMean[ch] = 0.9 * before[ch] + 0.1 * mean;
            expectedVar[ch] = 0.9 * beforeVar[ch] + 0.1 * unbiased;
        }
        Assertions.AllClose(expectedMean, layer.RunningMean.Value, 1e-5, 1e-5, "running mean");
        Assertions.AllClose(expectedVar, layer.RunningVariance.Value, 1e-5, 1e-5, "running variance");
    }

    [Theory]
    [InlineData(150, 0, 0)]
    [InlineData(5, 3, 3)]
    public void ThreadCountDoesNotChangeResults(int c, int h, int w)
    {
        var random = new RandomSource(67);
        var serial = Create(c, h, w, random);
        var threaded = Create(c, h, w, new RandomSource(67));
        using var workers = new WorkerPool(2);
        threaded.Workers = workers;
        var x = TestUtil.GradientCheck.RandomTensor(serial.InputShape.WithBatch(6), random, -2, 3);
        var dy = TestUtil.GradientCheck.RandomTensor(serial.InputShape.WithBatch(6), random);

        var ySerial = serial.Forward(x, training: true).Span.ToArray();
        var dxSerial = serial.Backward(dy)!.Span.ToArray();
        var yThreaded = threaded.Forward(x, training: true).Span.ToArray();
        var dxThreaded = threaded.Backward(dy)!.Span.ToArray();

        Assertions.BitwiseEqual(ySerial, yThreaded, "output");
        Assertions.BitwiseEqual(dxSerial, dxThreaded, "input gradient");
        Assertions.BitwiseEqual(serial.Scale.Gradient, threaded.Scale.Gradient, "scale gradient");
        Assertions.BitwiseEqual(serial.RunningVariance.Value, threaded.RunningVariance.Value, "running variance");
    }

    [Fact]
    public void InferenceLeavesRunningStatistics()
    {
        var random = new RandomSource(64);
        var layer = Create(3, 2, 2, random);
        float[] mean = layer.RunningMean.Value.ToArray();
        float[] variance = layer.RunningVariance.Value.ToArray();

        layer.Forward(TestUtil.GradientCheck.RandomTensor(new TensorShape(4, 3, 2, 2), random), training: false);

        Assert.Equal(mean, layer.RunningMean.Value.ToArray());
        Assert.Equal(variance, layer.RunningVariance.Value.ToArray());
    }

    [Fact]
    public void TrainingOutputHasZeroMeanUnitVariance()
    {
        var random = new RandomSource(65);
        var layer = new BatchNorm("batchnorm1", new TensorShape(2, 3, 3));
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(8, 2, 3, 3), random, 10, 30);

        var y = layer.Forward(x, training: true).Span.ToArray();

        for (int c = 0; c < 2; c++)
        {
            var values = Enumerable.Range(0, 8).SelectMany(n => y.Skip((n * 2 + c) * 9).Take(9)).Select(v => (double)v).ToArray();
            double mean = values.Average();
            Assert.InRange(mean, -1e-4, 1e-4);
            Assert.InRange(values.Average(v => (v - mean) * (v - mean)), 1 - 1e-3, 1 + 1e-3);
        }
    }

    [Fact]
    public void InitialValuesNamesAndKinds()
    {
        var layer = new BatchNorm("batchnorm2", new TensorShape(3));
        layer.Scale.Value.Fill(3f);
        layer.RunningVariance.Value.Fill(3f);

        layer.Initialize(WeightInit.He, new RandomSource(66));

        Assert.Equal(["batchnorm2.scale", "batchnorm2.shift", "batchnorm2.running_mean", "batchnorm2.running_var"],
            layer.Parameters.Select(p => p.Name));
        Assert.Equal([ParameterKind.Scale, ParameterKind.Shift, ParameterKind.Statistic, ParameterKind.Statistic],
            layer.Parameters.Select(p => p.Kind));
        Assert.All(layer.Scale.Value.ToArray(), v => Assert.Equal(1f, v));
        Assert.All(layer.Shift.Value.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(layer.RunningMean.Value.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(layer.RunningVariance.Value.ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void OptimiserSkipsRunningStatistics()
    {
        var layer = new BatchNorm("batchnorm1", new TensorShape(3));
        layer.RunningMean.Gradient.Fill(5f);
        layer.Scale.Gradient.Fill(5f);

        new Adam(layer.Parameters, 0.1).Step();

        Assert.All(layer.RunningMean.Value.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(layer.Scale.Value.ToArray(), v => Assert.NotEqual(1f, v));
    }

    [Fact]
    public void TrainingRejectsSingleValuePerChannel()
    {
        var layer = new BatchNorm("batchnorm1", new TensorShape(4));
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(new TensorShape(1, 4)), training: true));
        Assert.Contains("at least 2 values per channel", error.Message);
    }

    [Theory]
    [InlineData(64, "batchnorm 1d 64")]
    [InlineData(0, "batchnorm 2d 8")]
    public void FactoryChoosesDimensionFromInput(int features, string description)
    {
        var input = features > 0 ? new TensorShape(features) : new TensorShape(8, 4, 4);
        var layer = Assert.IsType<BatchNorm>(LayerFactory.Create(LayerSpec.Parse("batchnorm"), "batchnorm1", input));
        Assert.Equal(description, layer.Describe());
        Assert.Equal(input, layer.OutputShape);
    }

    [Fact]
    public void FactoryRejectsBadInputRank()
    {
        var error = Assert.Throws<FormatException>(() => LayerFactory.Create(LayerSpec.Parse("batchnorm"), "batchnorm1", new TensorShape(4, 4)));
        Assert.Contains("[C] or [C, H, W]", error.Message);
    }
}
