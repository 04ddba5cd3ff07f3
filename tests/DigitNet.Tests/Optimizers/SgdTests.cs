using DigitNet.Layers;
using DigitNet.Optimizers;
using DigitNet.Tensors;

namespace DigitNet.Tests.Optimizers;

public sealed class SgdTests
{
    private const double LearningRate = 0.1, Momentum = 0.9, Decay = 0.01;

    /// <summary>
    /// Three steps from <c>w = 1</c> with a constant gradient of 1, <c>lr = 0.1</c> and <c>m = 0.9</c>,
    /// worked out by hand. With a constant gradient the velocity has the closed form
    /// <c>v_t = (1 - m^t) / (1 - m)</c> (1, 1.9, 2.71), and the averaged form keeps <c>1 - m^t</c>
    /// (0.1, 0.19, 0.271).
    /// </summary>
    [Theory]
    [InlineData(MomentumKind.None, 0.9, 0.8, 0.7)]
    [InlineData(MomentumKind.Classic, 0.9, 0.71, 0.439)]
    [InlineData(MomentumKind.Nesterov, 0.81, 0.539, 0.1951)]
    [InlineData(MomentumKind.Average, 0.99, 0.971, 0.9439)]
    public void HandComputedThreeSteps(MomentumKind kind, double first, double second, double third)
    {
        var w = new Parameter("dense1.weight", new TensorShape(1), ParameterKind.Weight);
        w.Value[0] = 1;
        var sgd = new Sgd([w], LearningRate, Momentum, kind);
        var trajectory = new List<double>();

        for (int step = 0; step < 3; step++)
        {
            w.Gradient[0] = 1;
            sgd.Step();
            trajectory.Add(w.Value[0]);
        }

        Assert.Equal(first, trajectory[0], 1e-6);
        Assert.Equal(second, trajectory[1], 1e-6);
        Assert.Equal(third, trajectory[2], 1e-6);
        Assert.Equal(kind, sgd.Kind);
        Assert.Equal(3, sgd.StepCount);
    }

    [Theory]
    [InlineData(MomentumKind.None)]
    [InlineData(MomentumKind.Classic)]
    [InlineData(MomentumKind.Nesterov)]
    [InlineData(MomentumKind.Average)]
    public void ThreeStepsMatchDoubleReference(MomentumKind kind)
    {
        var random = new RandomSource(81, (ulong)kind);
        var weight = RandomParameter("dense1.weight", 6, ParameterKind.Weight, random);
        var bias = RandomParameter("dense1.bias", 3, ParameterKind.Bias, random);
        var sgd = new Sgd([weight, bias], LearningRate, Momentum, kind, Decay);
        var expected = new SgdReference(kind, [ToDouble(weight.Value), ToDouble(bias.Value)], [Decay, 0]);

        for (int step = 1; step <= 3; step++)
        {
            var gradients = new[] { RandomGradient(weight, random), RandomGradient(bias, random) };
            sgd.Step();
            expected.Step(gradients);

            AssertClose(expected.Values[0], weight.Value, $"{kind} step {step}, weight");
            AssertClose(expected.Values[1], bias.Value, $"{kind} step {step}, bias");
        }
    }

    [Fact]
    public void ZeroMomentumMeansPlainDescent()
    {
        var w = new Parameter("dense1.weight", new TensorShape(1), ParameterKind.Weight);

        var sgd = new Sgd([w], LearningRate, momentum: 0, kind: MomentumKind.Nesterov);

        Assert.Equal(MomentumKind.None, sgd.Kind);
    }

    [Fact]
    public void LearningRateChangeAppliesToNextStep()
    {
        var w = new Parameter("dense1.weight", new TensorShape(1), ParameterKind.Weight);
        var sgd = new Sgd([w], 0.1);

        w.Gradient[0] = 1;
        sgd.Step();
        sgd.LearningRate = 0.01;
        w.Gradient[0] = 1;
        sgd.Step();

        Assert.Equal(-0.11, w.Value[0], 1e-7);
    }

    [Theory]
    [InlineData(0.0, 0.0, 0.0)]
    [InlineData(-0.1, 0.0, 0.0)]
    [InlineData(double.NaN, 0.0, 0.0)]
    [InlineData(double.PositiveInfinity, 0.0, 0.0)]
    [InlineData(0.1, 1.0, 0.0)]
    [InlineData(0.1, -0.5, 0.0)]
    [InlineData(0.1, 0.0, -1e-4)]
    public void InvalidSettingsThrow(double learningRate, double momentum, double weightDecay)
    {
        var w = new Parameter("dense1.weight", new TensorShape(1), ParameterKind.Weight);

        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([w], learningRate, momentum, weightDecay: weightDecay));
    }

    /// <summary>
    /// SGD in double precision, written from the update rules. With <c>g' = g + lambda w</c>:
    /// <list type="bullet">
    /// <item>None: <c>w -= lr g'</c>.</item>
    /// <item>Classic: <c>v = m v + g'</c>, then <c>w -= lr v</c>.</item>
    /// <item>Nesterov: <c>v = m v + g'</c>, then <c>w -= lr (g' + m v)</c>.</item>
    /// <item>Average: <c>v = m v + (1 - m) g'</c>, then <c>w -= lr v</c>.</item>
    /// </list>
    /// </summary>
    private sealed class SgdReference(MomentumKind kind, double[][] values, double[] decays)
    {
        private readonly double[][] _velocity = values.Select(v => new double[v.Length]).ToArray();

        public double[][] Values { get; } = values;

        public void Step(double[][] gradients)
        {
            for (int p = 0; p < Values.Length; p++)
            {
                double[] w = Values[p], v = _velocity[p];
                for (int i = 0; i < w.Length; i++)
                {
                    double g = gradients[p][i] + decays[p] * w[i];
                    switch (kind)
                    {
                        case MomentumKind.None:
                            w[i] -= LearningRate * g;
                            break;
                        case MomentumKind.Classic:
                            v[i] = Momentum * v[i] + g;
                            w[i] -= LearningRate * v[i];
                            break;
                        case MomentumKind.Nesterov:
                            v[i] = Momentum * v[i] + g;
                            w[i] -= LearningRate * (g + Momentum * v[i]);
                            break;
                        case MomentumKind.Average:
                            v[i] = Momentum * v[i] + (1 - Momentum) * g;
                            w[i] -= LearningRate * v[i];
                            break;
                    }
                }
            }
        }
    }

    internal static Parameter RandomParameter(string name, int length, ParameterKind kind, RandomSource random)
    {
        var parameter = new Parameter(name, new TensorShape(length), kind);
        for (int i = 0; i < length; i++) parameter.Value[i] = (float)random.Uniform(-2, 2);
        return parameter;
    }

    /// <summary>Writes a random gradient into the parameter, as a backward pass would, and returns it in double.</summary>
    internal static double[] RandomGradient(Parameter parameter, RandomSource random)
    {
        for (int i = 0; i < parameter.Length; i++) parameter.Gradient[i] = (float)random.Uniform(-1, 1);
        return ToDouble(parameter.Gradient);
    }

    internal static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>Asserts float32 values within 1e-6 of <c>max(1, |expected|)</c> of a double reference.</summary>
    internal static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])),
                $"{what}[{i}]: got {actual[i]:G9}, expected {expected[i]:G9}");
        }
    }
}
