using DigitNet.Layers;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Layers;

public sealed class DenseTests(ITestOutputHelper output)
{
    /// <summary>Batch sizes crossed with (inputs, outputs) pairs drawn from 1, 5, 17 and 33.</summary>
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        (int, int)[] sizes = [(1, 1), (1, 33), (5, 17), (17, 5), (33, 1), (33, 33)];
        foreach (int batch in new[] { 1, 3, 7 })
        {
            foreach (var (inputs, outputs) in sizes) data.Add(batch, inputs, outputs);
        }
        return data;
    }

    /// <summary>
    /// Naive double-precision dense layer: <c>y[n, o] = sum_i x[n, i] w[o, i] + b[o]</c> with
    /// x <c>[N, in]</c>, w <c>[out, in]</c>, b <c>[out]</c> or null, y <c>[N, out]</c>.
    /// </summary>
    public static double[] DenseForward(double[] x, double[] w, double[]? b, int batch, int inputs, int outputs)
    {
        var y = new double[batch * outputs];
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < outputs; o++)
            {
                double sum = b is null ? 0 : b[o];
                for (int i = 0; i < inputs; i++) sum += x[n * inputs + i] * w[o * inputs + i];
                y[n * outputs + o] = sum;
            }
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientCheckWithBias(int batch, int inputs, int outputs) =>
        CheckDense(new TensorShape(inputs), outputs, batch, bias: true, seed: 1);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientCheckWithoutBias(int batch, int inputs, int outputs) =>
        CheckDense(new TensorShape(inputs), outputs, batch, bias: false, seed: 2);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void GradientCheckImageInput(int batch) =>
        CheckDense(new TensorShape(2, 3, 4), 5, batch, bias: true, seed: 3);

    [Fact]
    public void GradientCheckAfterLargerBatch()
    {
        // The layer's buffers are sized by the first batch, and a smaller batch must not read stale rows.
        var random = new RandomSource(4);
        var layer = CreateRandomDense(new TensorShape(5), 17, bias: true, random);
        Check(layer, 7, random, bias: true);
        Check(layer, 3, random, bias: true);
    }

    [Fact]
    public void ParametersHaveNamesAndShapes()
    {
        var layer = new Dense("dense2", new TensorShape(2, 3, 4), 5);

        Assert.Equal(["dense2.weight", "dense2.bias"], layer.Parameters.Select(p => p.Name));
        Assert.Equal(new TensorShape(5, 24), layer.Weight.Shape);
        Assert.Equal(ParameterKind.Weight, layer.Weight.Kind);
        Assert.Equal(new TensorShape(5), layer.Bias!.Shape);
        Assert.Equal(ParameterKind.Bias, layer.Bias.Kind);
        Assert.Equal(new TensorShape(5), layer.OutputShape);
    }

    [Fact]
    public void NoBiasHasOnlyWeight()
    {
        var layer = new Dense("dense1", new TensorShape(4), 3, bias: false);

        Assert.Null(layer.Bias);
        Assert.Equal(["dense1.weight"], layer.Parameters.Select(p => p.Name));
        Assert.Contains("no bias", layer.Describe());
    }

    [Fact]
    public void BackwardTwiceOverwrites()
    {
        var random = new RandomSource(5);
        var layer = CreateRandomDense(new TensorShape(5), 3, bias: true, random);
        var x = GradientCheck.RandomTensor(new TensorShape(4, 5), random);
        var dy = GradientCheck.RandomTensor(new TensorShape(4, 3), random);

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
    public void BackwardIgnoresEarlierBatches()
    {
        var random = new RandomSource(6);
        var layer = CreateRandomDense(new TensorShape(5), 3, bias: true, random);
        var fresh = new Dense("dense1", new TensorShape(5), 3);
        layer.Weight.Value.CopyTo(fresh.Weight.Value);
        layer.Bias!.Value.CopyTo(fresh.Bias!.Value);
        var first = GradientCheck.RandomTensor(new TensorShape(7, 5), random);
        var second = GradientCheck.RandomTensor(new TensorShape(2, 5), random);
        var dyFirst = GradientCheck.RandomTensor(new TensorShape(7, 3), random);
        var dySecond = GradientCheck.RandomTensor(new TensorShape(2, 3), random);

        layer.Forward(first, training: true);
        layer.Backward(dyFirst);
        layer.Forward(second, training: true);
        layer.Backward(dySecond);
        fresh.Forward(second, training: true);
        fresh.Backward(dySecond);

        Assert.Equal(fresh.Weight.Gradient.ToArray(), layer.Weight.Gradient.ToArray());
        Assert.Equal(fresh.Bias.Gradient.ToArray(), layer.Bias.Gradient.ToArray());
    }

    [Fact]
    public void NoInputGradientStillFillsParameterGradients()
    {
        var random = new RandomSource(7);
        var layer = CreateRandomDense(new TensorShape(5), 3, bias: true, random);
        var reference = new Dense("dense1", new TensorShape(5), 3);
        layer.Weight.Value.CopyTo(reference.Weight.Value);
        layer.Bias!.Value.CopyTo(reference.Bias!.Value);
        var x = GradientCheck.RandomTensor(new TensorShape(3, 5), random);
        var dy = GradientCheck.RandomTensor(new TensorShape(3, 3), random);
        layer.ComputesInputGradient = false;

        layer.Forward(x, training: true);
        var dx = layer.Backward(dy);
        reference.Forward(x, training: true);
        reference.Backward(dy);

        Assert.Null(dx);
        Assert.Equal(reference.Weight.Gradient.ToArray(), layer.Weight.Gradient.ToArray());
        Assert.Equal(reference.Bias.Gradient.ToArray(), layer.Bias.Gradient.ToArray());
    }

    [Fact]
    public void WrongInputShapeThrows()
    {
        var layer = new Dense("dense3", new TensorShape(1, 4, 4), 10);

        var error = Assert.Throws<ArgumentException>(() => layer.Forward(new Tensor(new TensorShape(8, 16)), training: false));

        Assert.Contains("dense3", error.Message);
        Assert.Contains("[8, 16]", error.Message);
    }

    [Fact]
    public void BackwardBeforeForwardThrows()
    {
        var layer = new Dense("dense1", new TensorShape(4), 2);

        Assert.Throws<InvalidOperationException>(() => layer.Backward(new Tensor(new TensorShape(1, 2))));
    }

    private void CheckDense(TensorShape inputShape, int outputs, int batch, bool bias, ulong seed)
    {
        var random = new RandomSource(seed, (ulong)(batch * 10_000 + inputShape.Size * 100 + outputs));
        var layer = CreateRandomDense(inputShape, outputs, bias, random);
        Check(layer, batch, random, bias);
    }

    private void Check(Dense layer, int batch, RandomSource random, bool bias)
    {
        int inputs = layer.InputShape.Size, outputs = layer.OutputShape.Size;
        var x = GradientCheck.RandomTensor(layer.InputShape.WithBatch(batch), random);

        var report = GradientCheck.CheckLayer(layer, x,
            (xd, p) => DenseForward(xd, p[0], bias ? p[1] : null, batch, inputs, outputs), random, training: true);

        output.WriteLine($"dense {layer.InputShape} -> {outputs}, batch {batch}, bias {bias}: max error {report.MaxError:E2}");
        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    private static Dense CreateRandomDense(TensorShape inputShape, int outputs, bool bias, RandomSource random)
    {
        var layer = new Dense("dense1", inputShape, outputs, bias);
        foreach (var parameter in layer.Parameters) GradientCheck.Fill(parameter.Value, random);
        return layer;
    }
}
