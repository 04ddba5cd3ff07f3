using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Tests.Kernels;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Layers;

public sealed class Conv2DTests(ITestOutputHelper output)
{
    /// <summary>
    /// (batch, C, H, W, OUT, KH, KW, stride, pad): strides 1 and 2, padding 0, 1 and 2, one to four
    /// input channels, non-square inputs and kernels, and a window as large as the padded input.
    /// </summary>
    public static TheoryData<int, int, int, int, int, int, int, int, int> Cases() => new()
    {
        { 2, 1, 5, 5, 2, 3, 3, 1, 0 },
        { 2, 1, 6, 6, 3, 3, 3, 1, 1 },
        { 2, 2, 5, 7, 3, 3, 3, 1, 2 },
        { 3, 3, 7, 5, 2, 3, 3, 2, 0 },
        { 2, 2, 6, 6, 4, 3, 3, 2, 1 },
        { 1, 4, 5, 6, 2, 5, 5, 2, 2 },
        { 2, 2, 4, 7, 3, 2, 3, 1, 1 },
        { 2, 3, 3, 3, 2, 5, 5, 1, 1 },
        { 1, 1, 8, 8, 1, 1, 1, 2, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientsMatch(int batch, int c, int h, int w, int outChannels, int kh, int kw, int stride, int pad) =>
        Check(batch, c, h, w, outChannels, kh, kw, stride, pad, bias: true, threads: 1, oneSamplePerChunk: false, seed: 1);

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientsMatchNoBiasThreadedChunks(int batch, int c, int h, int w, int outChannels, int kh, int kw, int stride, int pad) =>
        Check(batch, c, h, w, outChannels, kh, kw, stride, pad, bias: false, threads: 2, oneSamplePerChunk: true, seed: 2);

    private void Check(int batch, int c, int h, int w, int outChannels, int kh, int kw, int stride, int pad,
        bool bias, int threads, bool oneSamplePerChunk, ulong seed)
    {
        var random = new RandomSource(seed);
        var layer = new Conv2D("conv1", new TensorShape(c, h, w), outChannels, kh, kw, stride, pad, bias);
        TestUtil.GradientCheck.Fill(layer.Weight.Value, random);
        if (layer.Bias is { } b) TestUtil.GradientCheck.Fill(b.Value, random);
        using var workers = threads > 1 ? new WorkerPool(threads) : null;
        layer.Workers = workers;
        if (oneSamplePerChunk) layer.ColumnBudget = 1;
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(batch, c, h, w), random);

        var report = TestUtil.GradientCheck.CheckLayer(layer, x,
            (xd, p) => NaiveConvolution.Forward(xd, p[0], bias ? p[1] : null, batch, outChannels, layer.Geometry),
            random, training: true);

        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    [Fact]
    public void ParametersHaveNamesShapesAndKinds()
    {
        var layer = new Conv2D("conv2", new TensorShape(3, 16, 12), 8, 5, 3, stride: 2, padding: 1);

        Assert.Equal(["conv2.weight", "conv2.bias"], layer.Parameters.Select(p => p.Name));
        Assert.Equal(new TensorShape(8, 3, 5, 3), layer.Weight.Shape);
        Assert.Equal(ParameterKind.Weight, layer.Weight.Kind);
        Assert.Equal(ParameterKind.Bias, layer.Bias!.Kind);
        Assert.Equal(new TensorShape(8, (16 + 2 - 5) / 2 + 1, (12 + 2 - 3) / 2 + 1), layer.OutputShape);
    }

    [Fact]
    public void BackwardTwiceOverwrites()
    {
        var random = new RandomSource(3);
        var layer = new Conv2D("conv1", new TensorShape(2, 6, 6), 3, 3, 3, padding: 1);
        layer.Initialize(WeightInit.He, random);
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(4, 2, 6, 6), random);
        var dy = TestUtil.GradientCheck.RandomTensor(new TensorShape(4, 3, 6, 6), random);

        layer.Forward(x, training: true);
        float[] dx1 = layer.Backward(dy)!.Span.ToArray();
        float[] dw1 = layer.Weight.Gradient.ToArray();
        float[] db1 = layer.Bias!.Gradient.ToArray();
        float[] dx2 = layer.Backward(dy)!.Span.ToArray();

        Assert.Equal(dw1, layer.Weight.Gradient.ToArray());
        Assert.Equal(db1, layer.Bias.Gradient.ToArray());
        Assert.Equal(dx1, dx2);
    }

    [Fact]
    public void NoInputGradientStillFillsParameterGradients()
    {
        var random = new RandomSource(4);
        var layer = new Conv2D("conv1", new TensorShape(1, 8, 8), 4, 3, 3, padding: 1);
        var reference = new Conv2D("conv1", new TensorShape(1, 8, 8), 4, 3, 3, padding: 1);
        layer.Initialize(WeightInit.He, random);
        layer.Weight.Value.CopyTo(reference.Weight.Value);
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(3, 1, 8, 8), random);
        var dy = TestUtil.GradientCheck.RandomTensor(new TensorShape(3, 4, 8, 8), random);
        layer.ComputesInputGradient = false;

        layer.Forward(x, training: true);
        var dx = layer.Backward(dy);
        reference.Forward(x, training: true);
        reference.Backward(dy);

        Assert.Null(dx);
        Assert.Equal(reference.Weight.Gradient.ToArray(), layer.Weight.Gradient.ToArray());
        Assert.Equal(reference.Bias!.Gradient.ToArray(), layer.Bias!.Gradient.ToArray());
    }

    /// <summary>
    /// Batches of 19 and 3 split into groups of 3 samples and of 1 sample, and the last group of 19
    /// is short. The groups run on 1, 2 or 3 threads, in training mode (columns kept for backward)
    /// and with backward rebuilding the columns after an inference-mode forward pass. Every
    /// output and gradient must be bit-identical to the single-threaded run.
    /// </summary>
    [Theory]
    [InlineData(19, true)]
    [InlineData(19, false)]
    [InlineData(3, true)]
    public void ResultsDoNotDependOnThreadCount(int batch, bool training)
    {
        var random = new RandomSource(8);
        var input = TestUtil.GradientCheck.RandomTensor(new TensorShape(batch, 3, 7, 6), random);
        var outputGradient = TestUtil.GradientCheck.RandomTensor(new TensorShape(batch, 4, 7, 6), random);
        float[][]? expected = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var layer = new Conv2D("conv1", new TensorShape(3, 7, 6), 4, 3, 3, padding: 1);
            layer.Initialize(WeightInit.He, new RandomSource(9));
            using var workers = threads > 1 ? new WorkerPool(threads) : null;
            layer.Workers = workers;
            float[] y = layer.Forward(input, training).Span.ToArray();
            float[] dx = layer.Backward(outputGradient)!.Span.ToArray();
            float[][] results = [y, dx, layer.Weight.Gradient.ToArray(), layer.Bias!.Gradient.ToArray()];

            expected ??= results;
            for (int i = 0; i < results.Length; i++)
                Assert.True(expected[i].AsSpan().SequenceEqual(results[i]), $"result {i} (y, dx, dW, db) differs on {threads} threads");
        }
    }

    /// <summary>
    /// A batch of 32 images of 16x16 splits into groups of 4 samples, whose 1,024-value rows the
    /// layer pads. One sample per group needs no padding. Outputs and input gradients must have
    /// the same bits both ways, and the weight and bias gradients, summed over groups in another
    /// order, must agree to rounding.
    /// </summary>
    [Fact]
    public void PaddedGroupRowsGiveSameResults()
    {
        var random = new RandomSource(12);
        var input = TestUtil.GradientCheck.RandomTensor(new TensorShape(32, 2, 16, 16), random);
        var outputGradient = TestUtil.GradientCheck.RandomTensor(new TensorShape(32, 3, 16, 16), random);
        float[][] Run(int columnBudget)
        {
            var layer = new Conv2D("conv1", new TensorShape(2, 16, 16), 3, 3, 3, padding: 1) { ColumnBudget = columnBudget };
            layer.Initialize(WeightInit.He, new RandomSource(13));
            float[] y = layer.Forward(input, training: true).Span.ToArray();
            float[] dx = layer.Backward(outputGradient)!.Span.ToArray();
            return [y, dx, layer.Weight.Gradient.ToArray(), layer.Bias!.Gradient.ToArray()];
        }

        float[][] padded = Run(Conv2D.DefaultColumnBudget);
        float[][] unpadded = Run(1);

        Assert.True(padded[0].AsSpan().SequenceEqual(unpadded[0]), "y differs between padded groups of 4 and groups of 1");
        Assert.True(padded[1].AsSpan().SequenceEqual(unpadded[1]), "dx differs between padded groups of 4 and groups of 1");
        Assertions.AllClose(TestUtil.GradientCheck.ToDouble(unpadded[2]), padded[2], 1e-5, 1e-5, "dW of padded groups");
        Assertions.AllClose(TestUtil.GradientCheck.ToDouble(unpadded[3]), padded[3], 1e-5, 1e-5, "db of padded groups");
    }

    [Fact]
    public void SmallerBatchAfterLargerGivesSameResult()
    {
        var random = new RandomSource(5);
        var layer = new Conv2D("conv1", new TensorShape(2, 5, 5), 3, 3, 3, padding: 1);
        layer.Initialize(WeightInit.He, random);
        var large = TestUtil.GradientCheck.RandomTensor(new TensorShape(9, 2, 5, 5), random);
        var small = TestUtil.GradientCheck.RandomTensor(new TensorShape(2, 2, 5, 5), random);

        layer.Forward(large, training: false);
        var y = layer.Forward(small, training: false);

        var expected = NaiveConvolution.Forward(TestUtil.GradientCheck.ToDouble(small.Span),
            TestUtil.GradientCheck.ToDouble(layer.Weight.Value), TestUtil.GradientCheck.ToDouble(layer.Bias!.Value), 2, 3, layer.Geometry);
        Assertions.AllClose(expected, y.Span, 1e-5, 1e-5, "conv forward after a larger batch");
    }

    [Fact]
    public void RejectsNonImageInput()
    {
        var error = Assert.Throws<ArgumentException>(() => new Conv2D("conv1", new TensorShape(256), 8, 3, 3));
        Assert.Contains("conv1", error.Message);
        Assert.Contains("[C, H, W]", error.Message);
    }

    [Fact]
    public void RejectsWrongBatchShape()
    {
        var layer = new Conv2D("conv1", new TensorShape(1, 16, 16), 4, 3, 3);
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(new TensorShape(8, 2, 16, 16)), training: false));
        Assert.Contains("[8, 2, 16, 16]", error.Message);
    }

    [Theory]
    [InlineData("conv 8 3x3", 8, 3, 3, 1, 0, true)]
    [InlineData("conv 16 5x5 pad=2", 16, 5, 5, 1, 2, true)]
    [InlineData("conv 4 3x5 stride=2 pad=1 bias=false", 4, 3, 5, 2, 1, false)]
    [InlineData("conv 6 3", 6, 3, 3, 1, 0, true)]
    public void FactoryParsesConv(string text, int outChannels, int kh, int kw, int stride, int pad, bool bias)
    {
        var layer = Assert.IsType<Conv2D>(LayerFactory.Create(LayerSpec.Parse(text), "conv1", new TensorShape(2, 16, 16)));

        Assert.Equal(outChannels, layer.OutputShape[0]);
        Assert.Equal(kh, layer.Geometry.KernelHeight);
        Assert.Equal(kw, layer.Geometry.KernelWidth);
        Assert.Equal(stride, layer.Geometry.StrideHeight);
        Assert.Equal(pad, layer.Geometry.PadWidth);
        Assert.Equal(bias, layer.Bias is not null);
    }

    [Theory]
    [InlineData("conv 8", "kernel size")]
    [InlineData("conv 8 3y3", "kernel size '3y3'")]
    [InlineData("conv 8 0x3", "kernel size '0x3'")]
    [InlineData("conv 8 3x3 stride=0", "stride=0")]
    [InlineData("conv 8 3x3 dilation=2", "unknown option 'dilation'")]
    [InlineData("conv 8 21x21", "larger than the padded input")]
    public void FactoryRejectsBadConv(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => LayerFactory.Create(LayerSpec.Parse(text), "conv1", new TensorShape(1, 16, 16)));
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TrainingStepAllocatesNothing(bool threaded)
    {
        // Every layer kind of the convolutional networks, after one step has sized the buffers.
        var network = new Network(Architecture.Parse(new TensorShape(1, 16, 16),
            "conv 8 3x3 pad=1 bias=false, batchnorm, relu, maxpool 2, conv 8 3x3 stride=2 pad=1, relu, avgpool 2, " +
            "dropout 0.1, flatten, batchnorm, dense 16, sigmoid, dense 10"));
        var random = new RandomSource(7);
        network.Initialize(WeightInit.He, random);
        network.SetDropoutRandom(random);
        using var workers = threaded ? new WorkerPool(2) : null;
        network.Workers = workers;
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(16, 1, 16, 16), random);
        byte[] labels = new byte[16];
        var loss = new SoftmaxCrossEntropy();
        var gradient = new Tensor(new TensorShape(16, 10));
        void Step()
        {
            loss.Compute(network.Forward(x, training: true), labels, gradient);
            network.Backward(gradient);
        }
        Step();
        Step();

        long allocated = AllocationMeter.LeastAllocated(Step);

        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// The whole training path without augmentation: a small CNN with every new layer kind and
    /// softmax cross-entropy, in training mode, against central differences of the float32 loss.
    /// The first convolution has no bias because the batch normalisation after it cancels any bias,
    /// whose true gradient is then 0 and leaves only rounding noise to compare.
    /// </summary>
    [Fact]
    public void NetworkGradientCheck()
    {
        var architecture = Architecture.Parse(new TensorShape(1, 8, 7),
            "conv 3 3x3 pad=1 bias=false, batchnorm, tanh, maxpool 2, conv 4 3x2 stride=2 pad=1, sigmoid, avgpool 2 stride=1, " +
            "flatten, batchnorm, dense 6, tanh, dense 5");
        var network = new Network(architecture);
        var random = new RandomSource(6);
        network.Initialize(WeightInit.Xavier, random);
        using var workers = new WorkerPool(2);
        network.Workers = workers;
        const int batch = 5;
        var x = TestUtil.GradientCheck.RandomTensor(new TensorShape(batch, 1, 8, 7), random);
        byte[] labels = [0, 3, 1, 4, 2];
        var loss = new SoftmaxCrossEntropy();
        var gradient = new Tensor(new TensorShape(batch, 5));

        loss.Compute(network.Forward(x, training: true), labels, gradient);
        network.Backward(gradient);
        float[] analytic = (float[])network.ParameterGradients.Clone();

        // The loss is a float32 computation, so the step is large enough to rise above its rounding.
        double[] point = TestUtil.GradientCheck.ToDouble(network.ParameterValues);
        double Objective()
        {
            for (int i = 0; i < point.Length; i++) network.ParameterValues[i] = (float)point[i];
            return loss.Compute(network.Forward(x, training: true), labels, gradient: null);
        }
        double[] numerical = TestUtil.GradientCheck.CentralDifferences(Objective, point, step: 1e-3);

        for (int p = 0, offset = 0; p < network.Parameters.Count; offset += network.Parameters[p].Length, p++)
        {
            var parameter = network.Parameters[p];
            if (parameter.Kind == ParameterKind.Statistic) continue;
            var comparison = TestUtil.GradientCheck.Compare(parameter.Name, analytic.AsSpan(offset, parameter.Length),
                numerical.AsSpan(offset, parameter.Length), 2e-2, parameter.Shape);
            output.WriteLine(comparison.ToString());
            Assert.True(comparison.Passed, comparison.ToString());
        }
    }
}
