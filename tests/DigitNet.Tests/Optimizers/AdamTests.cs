using DigitNet.Layers;
using DigitNet.Optimizers;
using DigitNet.Tensors;
using static DigitNet.Tests.Optimizers.SgdTests;

namespace DigitNet.Tests.Optimizers;

public sealed class AdamTests
{
    private const double LearningRate = 0.01, Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8, Decay = 0.1;

    /// <summary>
    /// With a constant gradient <c>g</c> the bias-corrected moments are exactly <c>g</c> and <c>g^2</c>
    /// at every step, so <c>w_t = w_0 - t lr g / (|g| + eps)</c>: each step moves by the learning rate
    /// against the sign of the gradient, whatever its size.
    /// </summary>
    [Fact]
    public void ConstantGradientClosedForm()
    {
        float[] gradient = [1e-3f, 1f, -5f, 0f];
        var w = new Parameter("dense1.weight", new TensorShape(gradient.Length), ParameterKind.Weight);
        w.Value.Fill(1);
        var adam = new Adam([w], LearningRate, Beta1, Beta2, Epsilon);

        for (int t = 1; t <= 3; t++)
        {
            gradient.CopyTo(w.Gradient);
            adam.Step();

            double[] expected = gradient.Select(g => 1 - t * LearningRate * g / (Math.Abs(g) + Epsilon)).ToArray();
            AssertClose(expected, w.Value, $"step {t}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ThreeStepsMatchDoubleReference(bool decoupled)
    {
        var random = new RandomSource(91, decoupled ? 1UL : 0UL);
        var weight = RandomParameter("dense1.weight", 6, ParameterKind.Weight, random);
        var bias = RandomParameter("dense1.bias", 3, ParameterKind.Bias, random);
        var adam = new Adam([weight, bias], LearningRate, Beta1, Beta2, Epsilon, Decay, decoupled);
        var expected = new AdamReference(decoupled, [ToDouble(weight.Value), ToDouble(bias.Value)], [Decay, 0]);

        for (int step = 1; step <= 3; step++)
        {
            var gradients = new[] { RandomGradient(weight, random), RandomGradient(bias, random) };
            adam.Step();
            expected.Step(gradients);

            string name = decoupled ? "AdamW" : "Adam";
            AssertClose(expected.Values[0], weight.Value, $"{name} step {step}, weight");
            AssertClose(expected.Values[1], bias.Value, $"{name} step {step}, bias");
        }
    }

    [Fact]
    public void AdamWShrinksWeightsWithoutGradient()
    {
        // With g = 0 both moments stay 0, so AdamW only applies w *= 1 - lr lambda, and only to weights.
        var weight = new Parameter("dense1.weight", new TensorShape(2), ParameterKind.Weight);
        var bias = new Parameter("dense1.bias", new TensorShape(2), ParameterKind.Bias);
        weight.Value.Fill(2);
        bias.Value.Fill(2);
        var adamW = new Adam([weight, bias], LearningRate, weightDecay: Decay, decoupledDecay: true);

        for (int step = 0; step < 3; step++) adamW.Step();

        double expected = 2 * Math.Pow(1 - LearningRate * Decay, 3);
        Assert.All(weight.Value.ToArray(), v => Assert.Equal(expected, v, 1e-6));
        Assert.All(bias.Value.ToArray(), v => Assert.Equal(2f, v));
    }

    [Fact]
    public void AdamL2DecayGoesThroughMoments()
    {
        // With g = 0 the L2 term lambda w is the whole gradient, and Adam normalises it to a step of lr.
        var weight = new Parameter("dense1.weight", new TensorShape(2), ParameterKind.Weight);
        weight.Value.Fill(2);
        var adam = new Adam([weight], LearningRate, weightDecay: Decay);

        adam.Step();

        Assert.All(weight.Value.ToArray(), v => Assert.Equal(2 - LearningRate, v, 1e-6));
    }

    [Theory]
    [InlineData(1.0, 0.999, 1e-8)]
    [InlineData(-0.1, 0.999, 1e-8)]
    [InlineData(0.9, 1.0, 1e-8)]
    [InlineData(0.9, 0.999, 0.0)]
    [InlineData(0.9, 0.999, double.NaN)]
    public void InvalidSettingsThrow(double beta1, double beta2, double epsilon)
    {
        var w = new Parameter("dense1.weight", new TensorShape(1), ParameterKind.Weight);

        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([w], LearningRate, beta1, beta2, epsilon));
    }

    /// <summary>
    /// Adam in double precision, written from the update rules: <c>m = b1 m + (1 - b1) g'</c>,
    /// <c>v = b2 v + (1 - b2) g'^2</c>, then <c>w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)</c>.
    /// Adam adds L2 decay to the gradient, <c>g' = g + lambda w</c>. AdamW decouples it: <c>g' = g</c>,
    /// and the weight first shrinks by <c>lr lambda w</c>.
    /// </summary>
    private sealed class AdamReference(bool decoupled, double[][] values, double[] decays)
    {
        private readonly double[][] _m = values.Select(v => new double[v.Length]).ToArray();
        private readonly double[][] _v = values.Select(v => new double[v.Length]).ToArray();
        private int _t;

        public double[][] Values { get; } = values;

        public void Step(double[][] gradients)
        {
            _t++;
            double c1 = 1 - Math.Pow(Beta1, _t), c2 = 1 - Math.Pow(Beta2, _t);
            for (int p = 0; p < Values.Length; p++)
            {
                double[] w = Values[p], m = _m[p], v = _v[p];
                for (int i = 0; i < w.Length; i++)
                {
                    double g = gradients[p][i] + (decoupled ? 0 : decays[p] * w[i]);
                    m[i] = Beta1 * m[i] + (1 - Beta1) * g;
                    v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
                    if (decoupled) w[i] -= LearningRate * decays[p] * w[i];
                    w[i] -= LearningRate * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + Epsilon);
                }
            }
        }
    }
}
