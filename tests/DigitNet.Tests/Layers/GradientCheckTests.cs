using DigitNet.Layers;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Layers;

/// <summary>Tests of the gradient checker itself: it passes a correct layer, fails a wrong gradient and names where it is wrong.</summary>
public sealed class GradientCheckTests
{
    [Fact]
    public void CorrectLayerPasses()
    {
        var layer = new ScaleLayer(new TensorShape(2, 3), wrongElement: -1);
        var x = GradientCheck.RandomTensor(new TensorShape(2, 2, 3), new RandomSource(41));

        var report = GradientCheck.CheckLayer(layer, x, ScaleLayer.Reference, new RandomSource(42));

        report.AssertPassed();
        Assert.Equal(["output", "input", "scale1.weight"], report.Comparisons.Select(c => c.Name));
    }

    [Fact]
    public void WrongInputGradientIsLocated()
    {
        var layer = new ScaleLayer(new TensorShape(2, 3), wrongElement: 10);
        var x = GradientCheck.RandomTensor(new TensorShape(2, 2, 3), new RandomSource(43));

        var report = GradientCheck.CheckLayer(layer, x, ScaleLayer.Reference, new RandomSource(44));

        var input = report.Comparisons.Single(c => c.Name == "input");
        Assert.False(input.Passed);
        Assert.Equal("[1, 1, 1]", input.WorstIndex);
        Assert.True(report.Comparisons.Single(c => c.Name == "scale1.weight").Passed);
        var error = Assert.ThrowsAny<Xunit.Sdk.XunitException>(report.AssertPassed);
        Assert.Contains("input[1, 1, 1]", error.Message);
    }

    [Fact]
    public void WrongParameterGradientFails()
    {
        var layer = new ScaleLayer(new TensorShape(4), wrongElement: -1) { DoubleWeightGradient = true };
        var x = GradientCheck.RandomTensor(new TensorShape(3, 4), new RandomSource(45));

        var report = GradientCheck.CheckLayer(layer, x, ScaleLayer.Reference, new RandomSource(46));

        Assert.False(report.Comparisons.Single(c => c.Name == "scale1.weight").Passed);
        Assert.True(report.Comparisons.Single(c => c.Name == "input").Passed);
    }

    [Fact]
    public void CentralDifferencesOfCubic()
    {
        double[] point = [0.5, -2, 3];

        double[] gradient = GradientCheck.CentralDifferences(() => point.Sum(v => v * v * v), point);

        // Rounding of the objective (about 20) over a step of 2e-6 gives an error near 1e-9.
        Assert.Equal([0.5, -2, 3], point);
        for (int i = 0; i < point.Length; i++)
            Assert.Equal(3 * point[i] * point[i], gradient[i], 1e-8);
    }

    /// <summary>
    /// <c>y = w x</c> with one scalar weight <c>w = 1.5</c>, and a backward pass that can be made
    /// wrong in one element of <c>dx</c> or in <c>dw</c>.
    /// </summary>
    private sealed class ScaleLayer(TensorShape shape, int wrongElement) : Layer("scale1", shape, shape)
    {
        private readonly Parameter _weight = CreateWeight();
        private Tensor? _x, _y, _dx;

        public bool DoubleWeightGradient { get; init; }

        public override IReadOnlyList<Parameter> Parameters => [_weight];

        public static double[] Reference(double[] x, IReadOnlyList<double[]> parameters) =>
            x.Select(v => parameters[0][0] * v).ToArray();

        public override string Describe() => "scale";

        public override Tensor Forward(Tensor x, bool training)
        {
            CheckInput(x);
            _x = x;
            var y = EnsureBuffer(ref _y, x.Shape[0], OutputShape);
            for (int i = 0; i < x.Size; i++) y.Span[i] = _weight.Value[0] * x.Span[i];
            return y;
        }

        public override Tensor? Backward(Tensor dy)
        {
            var x = _x!;
            var dx = EnsureBuffer(ref _dx, x.Shape[0], InputShape);
            double dw = 0;
            for (int i = 0; i < x.Size; i++)
            {
                dw += dy.Span[i] * x.Span[i];
                dx.Span[i] = _weight.Value[0] * dy.Span[i];
            }
            _weight.Gradient[0] = (float)(DoubleWeightGradient ? 2 * dw : dw);
            if (wrongElement >= 0) dx.Span[wrongElement] += 1;
            return dx;
        }

        private static Parameter CreateWeight()
        {
            var weight = new Parameter("scale1.weight", new TensorShape(1), ParameterKind.Weight);
            weight.Value[0] = 1.5f;
            return weight;
        }
    }
}
