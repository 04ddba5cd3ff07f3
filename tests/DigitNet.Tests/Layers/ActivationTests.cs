using DigitNet.Layers;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Layers;

public sealed class ActivationTests(ITestOutputHelper output)
{
    /// <summary>Batch sizes crossed with sample shapes of 1, 5, 17 and 33 features and one [C, H, W] shape.</summary>
    public static TheoryData<string, int, int[]> Cases()
    {
        var data = new TheoryData<string, int, int[]>();
        int[][] shapes = [[1], [5], [17], [33], [2, 3, 4]];
        foreach (string kind in new[] { "sigmoid", "tanh", "relu" })
        {
            foreach (int batch in new[] { 1, 3, 7 })
            {
                foreach (int[] shape in shapes) data.Add(kind, batch, shape);
            }
        }
        return data;
    }

    /// <summary>Naive double-precision <c>1 / (1 + exp(-x))</c>, element-wise.</summary>
    public static double[] SigmoidForward(double[] x) => x.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();

    /// <summary>Naive double-precision <c>tanh(x)</c>, element-wise.</summary>
    public static double[] TanhForward(double[] x) => x.Select(Math.Tanh).ToArray();

    /// <summary>Naive double-precision <c>max(x, 0)</c>, element-wise.</summary>
    public static double[] ReluForward(double[] x) => x.Select(v => Math.Max(v, 0)).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientsMatchReference(string kind, int batch, int[] sampleDimensions)
    {
        var shape = TensorShape.FromDimensions(sampleDimensions);
        var random = new RandomSource(11, (ulong)(batch * 1000 + shape.Size));
        Layer layer = kind switch
        {
            "sigmoid" => new Sigmoid("sigmoid1", shape),
            "tanh" => new Tanh("tanh1", shape),
            _ => new Relu("relu1", shape),
        };
        ReferenceForward reference = kind switch
        {
            "sigmoid" => (x, _) => SigmoidForward(x),
            "tanh" => (x, _) => TanhForward(x),
            _ => (x, _) => ReluForward(x),
        };

        // Inputs in [-3, 3] reach the curved parts of sigmoid and tanh. ReLU has a kink at 0, so
        // its inputs keep at least 0.05 away from it, far beyond the finite-difference step.
        var x = GradientCheck.RandomTensor(shape.WithBatch(batch), random, -3, 3);
        if (kind == "relu") MoveAwayFromZero(x.Span, 0.05f);

        var report = GradientCheck.CheckLayer(layer, x, reference, random, training: true);

        output.WriteLine($"{kind} {shape}, batch {batch}: max error {report.MaxError:E2}");
        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    [Fact]
    public void SigmoidSaturatesWithoutNaN()
    {
        float[] inputs = [1e3f, -1e3f, 1e30f, -1e30f, float.MaxValue, -float.MaxValue, 100f, -100f];
        var layer = new Sigmoid("sigmoid1", new TensorShape(inputs.Length));
        var x = new Tensor(new TensorShape(1, inputs.Length), inputs);
        var dy = new Tensor(new TensorShape(1, inputs.Length));
        dy.Span.Fill(1);

        float[] y = layer.Forward(x, training: true).Span.ToArray();
        float[] dx = layer.Backward(dy)!.Span.ToArray();

        Assert.Equal([1f, 0f, 1f, 0f, 1f, 0f, 1f], y[..7]);
        Assert.InRange(y[7], 0f, 1e-43f);
        Assert.All(dx, d => Assert.Equal(0f, d));
    }

    [Fact]
    public void TanhSaturatesWithoutNaN()
    {
        float[] inputs = [1e3f, -1e3f, 1e30f, -1e30f, float.MaxValue, -float.MaxValue];
        var layer = new Tanh("tanh1", new TensorShape(inputs.Length));
        var x = new Tensor(new TensorShape(1, inputs.Length), inputs);
        var dy = new Tensor(new TensorShape(1, inputs.Length));
        dy.Span.Fill(1);

        float[] y = layer.Forward(x, training: true).Span.ToArray();
        float[] dx = layer.Backward(dy)!.Span.ToArray();

        Assert.Equal([1f, -1f, 1f, -1f, 1f, -1f], y);
        Assert.All(dx, d => Assert.Equal(0f, d));
    }

    [Fact]
    public void ReluGradientAtZeroIsZero()
    {
        var layer = new Relu("relu1", new TensorShape(4));
        var x = new Tensor(new TensorShape(1, 4), [0f, -0f, -2f, 2f]);
        var dy = new Tensor(new TensorShape(1, 4), [5f, 5f, 5f, 5f]);

        float[] y = layer.Forward(x, training: true).Span.ToArray();
        float[] dx = layer.Backward(dy)!.Span.ToArray();

        Assert.Equal([0f, 0f, 0f, 2f], y);
        Assert.Equal([0f, 0f, 0f, 5f], dx);
    }

    [Fact]
    public void BackwardTwiceGivesSameGradient()
    {
        var random = new RandomSource(12);
        var layer = new Tanh("tanh1", new TensorShape(5));
        var x = GradientCheck.RandomTensor(new TensorShape(3, 5), random);
        var dy = GradientCheck.RandomTensor(new TensorShape(3, 5), random);

        layer.Forward(x, training: true);
        float[] first = layer.Backward(dy)!.Span.ToArray();
        float[] second = layer.Backward(dy)!.Span.ToArray();

        Assert.Equal(first, second);
    }

    [Fact]
    public void NoInputGradientReturnsNull()
    {
        var layer = new Sigmoid("sigmoid1", new TensorShape(2)) { ComputesInputGradient = false };
        layer.Forward(new Tensor(new TensorShape(1, 2)), training: true);

        Assert.Null(layer.Backward(new Tensor(new TensorShape(1, 2))));
    }

    [Fact]
    public void BackwardBeforeForwardThrows()
    {
        var layer = new Relu("relu1", new TensorShape(2));

        var error = Assert.Throws<InvalidOperationException>(() => layer.Backward(new Tensor(new TensorShape(1, 2))));
        Assert.Contains("relu1", error.Message);
    }

    private static void MoveAwayFromZero(Span<float> values, float margin)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = values[i] < 0 ? values[i] - margin : values[i] + margin;
    }
}
