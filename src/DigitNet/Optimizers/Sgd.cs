using System.Numerics.Tensors;
using DigitNet.Layers;

namespace DigitNet.Optimizers;

/// <summary>How stochastic gradient descent uses its velocity buffer.</summary>
public enum MomentumKind
{
    /// <summary>Plain gradient descent: <c>w -= lr * g</c>.</summary>
    None,
    /// <summary>Polyak's heavy ball: <c>v = m v + g; w -= lr v</c>.</summary>
    Classic,
    /// <summary>Nesterov's look-ahead (Sutskever et al., 2013): <c>v = m v + g; w -= lr (g + m v)</c>.</summary>
    Nesterov,
    /// <summary>Exponential moving average of gradients: <c>v = m v + (1 - m) g; w -= lr v</c>.</summary>
    Average,
}

/// <summary>
/// Stochastic gradient descent with optional momentum and L2 weight decay. The decay is added to
/// the gradient (<c>g += lambda w</c>) before momentum, as in classic L2 regularisation.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[][]? _velocity;

    public Sgd(IReadOnlyList<Parameter> parameters, double learningRate, double momentum = 0,
        MomentumKind kind = MomentumKind.Classic, double weightDecay = 0)
        : base(parameters, learningRate, weightDecay)
    {
        if (!(momentum >= 0 && momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1)");
        Momentum = momentum;
        Kind = momentum == 0 ? MomentumKind.None : kind;
        if (Kind != MomentumKind.None) _velocity = CreateState();
    }

    /// <summary>Momentum coefficient <c>m</c>.</summary>
    public double Momentum { get; }

    /// <summary>Momentum form in use (<see cref="MomentumKind.None"/> when the coefficient is zero).</summary>
    public MomentumKind Kind { get; }

    protected override void Update(int index, int offset, Span<float> w, Span<float> g, float decay)
    {
        float lr = (float)LearningRate;
        float m = (float)Momentum;

        // g += lambda * w
        if (decay != 0) TensorPrimitives.MultiplyAdd(w, decay, g, g);

        switch (Kind)
        {
            case MomentumKind.None:
                // w -= lr * g
                TensorPrimitives.MultiplyAdd(g, -lr, w, w);
                break;

            case MomentumKind.Classic:
                var v = _velocity![index].AsSpan(offset, w.Length);
                // v = m * v + g;  w -= lr * v
                TensorPrimitives.MultiplyAdd(v, m, g, v);
                TensorPrimitives.MultiplyAdd(v, -lr, w, w);
                break;

            case MomentumKind.Nesterov:
                var vn = _velocity![index].AsSpan(offset, w.Length);
                // v = m * v + g;  w -= lr * (g + m * v)
                TensorPrimitives.MultiplyAdd(vn, m, g, vn);
                TensorPrimitives.MultiplyAdd(g, -lr, w, w);
                TensorPrimitives.MultiplyAdd(vn, -lr * m, w, w);
                break;

            case MomentumKind.Average:
                var va = _velocity![index].AsSpan(offset, w.Length);
                // v = m * v + (1 - m) * g;  w -= lr * v
                TensorPrimitives.Multiply(va, m, va);
                TensorPrimitives.MultiplyAdd(g, 1 - m, va, va);
                TensorPrimitives.MultiplyAdd(va, -lr, w, w);
                break;
        }
    }
}
