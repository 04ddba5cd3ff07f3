using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Inverted dropout (Srivastava et al., 2014): in training each element is zeroed with probability
/// <c>p</c> and kept elements are scaled by <c>1 / (1 - p)</c>, so inference is the identity.
/// </summary>
public sealed class Dropout : Layer
{
    private Tensor? _mask, _y, _dx;
    private bool _maskActive;

    public Dropout(string name, TensorShape shape, double probability) : base(name, shape, shape)
    {
        if (!(probability >= 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, $"{name}: dropout probability must be in [0, 1)");
        Probability = probability;
    }

    /// <summary>Probability of dropping an element.</summary>
    public double Probability { get; }

    /// <summary>Generator for the masks; training with <c>p &gt; 0</c> requires one.</summary>
    public RandomSource? Random { get; set; }

    public override string Describe() => $"dropout {Probability}";

    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        _maskActive = training && Probability > 0;
        if (!_maskActive) return x;

        var random = Random ?? throw new InvalidOperationException($"{Name}: no random generator set for training");
        int n = x.Shape[0];
        var mask = EnsureBuffer(ref _mask, n, InputShape).Span;
        var y = EnsureBuffer(ref _y, n, OutputShape);
        float keepScale = (float)(1 / (1 - Probability));
        float drop = (float)Probability;
        var xs = x.Span;
        var ys = y.Span;
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = random.NextSingle() < drop ? 0f : keepScale;
            ys[i] = xs[i] * mask[i];
        }
        return y;
    }

    public override Tensor? Backward(Tensor dy)
    {
        if (!ComputesInputGradient) return null;
        if (!_maskActive) return dy;
        var dx = EnsureBuffer(ref _dx, dy.Shape[0], InputShape);
        System.Numerics.Tensors.TensorPrimitives.Multiply(dy.Span, _mask!.Span, dx.Span);
        return dx;
    }
}
