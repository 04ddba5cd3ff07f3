using DigitNet.Layers;

namespace DigitNet.Optimizers;

/// <summary>
/// Adam (Kingma and Ba, 2015, https://arxiv.org/abs/1412.6980) and, with decoupled decay,
/// AdamW (Loshchilov and Hutter, 2019,
/// https://arxiv.org/abs/1711.05101). Adam adds the L2 term to the gradient; AdamW shrinks the
/// weights directly by <c>lr * lambda * w</c>, independent of the adaptive scaling.
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[][] _m, _v;

    public Adam(IReadOnlyList<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, bool decoupledDecay = false)
        : base(parameters, learningRate, weightDecay)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1)");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        DecoupledDecay = decoupledDecay;
        _m = CreateState();
        _v = CreateState();
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }

    /// <summary>True for AdamW.</summary>
    public bool DecoupledDecay { get; }

    protected override void Update(int index, int offset, Span<float> w, Span<float> g, float decay)
    {
        var m = _m[index].AsSpan(offset, w.Length);
        var v = _v[index].AsSpan(offset, w.Length);
        float b1 = (float)Beta1, b2 = (float)Beta2, eps = (float)Epsilon;
        float lr = (float)LearningRate;

        // Bias corrections 1 - beta^t, computed in double because beta2^t approaches 1 slowly.
        float c1 = (float)(1 - Math.Pow(Beta1, StepCount));
        float c2 = (float)(1 - Math.Pow(Beta2, StepCount));
        float step = lr / c1;
        float invSqrtC2 = 1 / MathF.Sqrt(c2);
        float shrink = DecoupledDecay ? 1 - lr * decay : 1;
        float l2 = DecoupledDecay ? 0 : decay;

        for (int i = 0; i < w.Length; i++)
        {
            float grad = g[i] + l2 * w[i];
            m[i] = b1 * m[i] + (1 - b1) * grad;
            v[i] = b2 * v[i] + (1 - b2) * grad * grad;
            w[i] = w[i] * shrink - step * m[i] / (MathF.Sqrt(v[i]) * invSqrtC2 + eps);
        }
    }
}
