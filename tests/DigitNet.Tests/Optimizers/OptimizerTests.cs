using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Optimizers;
using DigitNet.Tensors;

namespace DigitNet.Tests.Optimizers;

/// <summary>Rules that every optimiser shares: which parameters it decays and which it leaves alone.</summary>
public sealed class OptimizerTests
{
    public static TheoryData<string> Optimizers() => ["sgd", "sgd-classic", "sgd-nesterov", "sgd-average", "adam", "adamw"];

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void FrozenParameterIsUnchanged(string name)
    {
        var frozen = Filled("dense1.weight", ParameterKind.Weight, value: 0.3f, gradient: 0.7f);
        var trained = Filled("dense2.weight", ParameterKind.Weight, value: 0.3f, gradient: 0.7f);
        frozen.Frozen = true;
        float[] before = frozen.Value.ToArray();
        var optimizer = Create(name, [frozen, trained], weightDecay: 0.01);

        for (int step = 0; step < 3; step++) optimizer.Step();

        Assert.True(before.AsSpan().SequenceEqual(frozen.Value), $"{name} changed a frozen parameter");
        Assert.NotEqual(0.3f, trained.Value[0]);
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void StatisticIsNeverUpdated(string name)
    {
        var statistic = Filled("bn1.running_mean", ParameterKind.Statistic, value: 0.3f, gradient: 0.7f);
        float[] before = statistic.Value.ToArray();
        var optimizer = Create(name, [statistic], weightDecay: 0.01);

        optimizer.Step();

        Assert.True(before.AsSpan().SequenceEqual(statistic.Value), $"{name} changed a statistic");
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void DecayAppliesOnlyToWeights(string name)
    {
        // The loss gradient is zero, so only weight decay can move a parameter. A nonzero gradient
        // would not do: Adam's first step has size lr whatever the gradient, with or without decay.
        var weight = Filled("dense1.weight", ParameterKind.Weight, value: 2f, gradient: 0f);
        var bias = Filled("dense1.bias", ParameterKind.Bias, value: 2f, gradient: 0f);
        var scale = Filled("bn1.scale", ParameterKind.Scale, value: 2f, gradient: 0f);
        var shift = Filled("bn1.shift", ParameterKind.Shift, value: 2f, gradient: 0f);
        var optimizer = Create(name, [weight, bias, scale, shift], weightDecay: 0.1);

        optimizer.Step();

        Assert.True(weight.Value[0] < 2f, $"{name}: weight {weight.Value[0]} was not decayed below 2");
        Assert.Equal(2f, bias.Value[0]);
        Assert.Equal(2f, scale.Value[0]);
        Assert.Equal(2f, shift.Value[0]);
    }

    [Fact]
    public void SgdDecayIsLearningRateTimesLambda()
    {
        // g' = g + lambda w = 0 + 0.1 * 2, so one plain step moves the weight by lr * 0.2.
        var weight = Filled("dense1.weight", ParameterKind.Weight, value: 2f, gradient: 0f);
        var bias = Filled("dense1.bias", ParameterKind.Bias, value: 2f, gradient: 0f);
        var sgd = new Sgd([weight, bias], learningRate: 0.5, momentum: 0, weightDecay: 0.1);

        sgd.Step();

        Assert.Equal(1.9f, weight.Value[0], 1e-6f);
        Assert.Equal(2f, bias.Value[0]);
    }

    /// <summary>
    /// Enough values for a step to be split across a pool: a weight of several slices and a
    /// partial last one, a frozen weight and a bias. Three steps on 1, 2 and 3 threads must give
    /// the same bits, and the frozen weight must not move. Values at slice edges must also match
    /// a parameter of that one value stepped on its own, which catches state read at the wrong offset.
    /// </summary>
    [Theory]
    [MemberData(nameof(Optimizers))]
    public void StepIsSameOnAnyThreadCount(string name)
    {
        float[]? expected = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var random = new RandomSource(5);
            var weight = Random("dense1.weight", 40_003, ParameterKind.Weight, random);
            var frozen = Random("dense2.weight", 9_000, ParameterKind.Weight, random);
            var bias = Random("dense2.bias", 37, ParameterKind.Bias, random);
            frozen.Frozen = true;
            float[] frozenBefore = frozen.Value.ToArray();
            var optimizer = Create(name, [weight, frozen, bias], weightDecay: 0.01);
            using var pool = threads > 1 ? new WorkerPool(threads) : null;
            optimizer.Workers = pool;

            for (int step = 0; step < 3; step++) optimizer.Step();

            float[] values = [.. weight.Value, .. bias.Value];
            if (expected is null)
            {
                foreach (int index in new[] { 0, 4095, 4096, 8193, 40_002 })
                    Assert.Equal(StepAlone(name, index, 40_003), weight.Value[index]);
            }
            expected ??= values;
            Assert.True(expected.AsSpan().SequenceEqual(values), $"{name}: values after 3 steps on {threads} threads differ from 1 thread");
            Assert.True(frozenBefore.AsSpan().SequenceEqual(frozen.Value), $"{name} changed a frozen parameter on {threads} threads");
        }
    }

    /// <summary>Value number <paramref name="index"/> of the test weight after 3 steps as a parameter of its own.</summary>
    private static float StepAlone(string name, int index, int length)
    {
        var full = Random("w", length, ParameterKind.Weight, new RandomSource(5));
        var alone = new Parameter("dense1.weight", new TensorShape(1), ParameterKind.Weight);
        alone.Value[0] = full.Value[index];
        alone.Gradient[0] = full.Gradient[index];
        var optimizer = Create(name, [alone], weightDecay: 0.01);
        for (int step = 0; step < 3; step++) optimizer.Step();
        return alone.Value[0];
    }

    private static Parameter Random(string name, int length, ParameterKind kind, RandomSource random)
    {
        var parameter = new Parameter(name, new TensorShape(length), kind);
        for (int i = 0; i < length; i++)
        {
            parameter.Value[i] = random.NextSingle() - 0.5f;
            parameter.Gradient[i] = random.NextSingle() - 0.5f;
        }
        return parameter;
    }

    private static Parameter Filled(string name, ParameterKind kind, float value, float gradient)
    {
        var parameter = new Parameter(name, new TensorShape(3), kind);
        parameter.Value.Fill(value);
        parameter.Gradient.Fill(gradient);
        return parameter;
    }

    private static Optimizer Create(string name, Parameter[] parameters, double weightDecay) => name switch
    {
        "sgd" => new Sgd(parameters, 0.1, 0, weightDecay: weightDecay),
        "sgd-classic" => new Sgd(parameters, 0.1, 0.9, MomentumKind.Classic, weightDecay),
        "sgd-nesterov" => new Sgd(parameters, 0.1, 0.9, MomentumKind.Nesterov, weightDecay),
        "sgd-average" => new Sgd(parameters, 0.1, 0.9, MomentumKind.Average, weightDecay),
        "adam" => new Adam(parameters, 0.01, weightDecay: weightDecay),
        "adamw" => new Adam(parameters, 0.01, weightDecay: weightDecay, decoupledDecay: true),
        _ => throw new ArgumentException($"unknown optimiser '{name}'", nameof(name)),
    };
}
