using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Base of the element-wise activations: <c>y = f(x)</c> with the same shape as <c>x</c>. Backward
/// uses the saved output <c>y</c>, which is all that sigmoid, tanh and ReLU need.
/// </summary>
public abstract class ActivationLayer : Layer
{
    private Tensor? _y, _dx;

    protected ActivationLayer(string name, TensorShape shape) : base(name, shape, shape) { }

    protected abstract void Apply(ReadOnlySpan<float> x, Span<float> y);
    protected abstract void Differentiate(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx);

    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        var y = EnsureBuffer(ref _y, x.Shape[0], OutputShape);
        Apply(x.Span, y.Span);
        return y;
    }

    public override Tensor? Backward(Tensor dy)
    {
        var y = _y ?? throw new InvalidOperationException($"{Name}: Backward called before Forward");
        if (!ComputesInputGradient) return null;
        var dx = EnsureBuffer(ref _dx, y.Shape[0], InputShape);
        Differentiate(y.Span, dy.Span, dx.Span);
        return dx;
    }
}

/// <summary>Logistic sigmoid, <c>y = 1 / (1 + exp(-x))</c>.</summary>
public sealed class Sigmoid(string name, TensorShape shape) : ActivationLayer(name, shape)
{
    public override string Describe() => "sigmoid";
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => Elementwise.Sigmoid(x, y);
    protected override void Differentiate(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Elementwise.SigmoidBackward(y, dy, dx);
}

/// <summary>Hyperbolic tangent.</summary>
public sealed class Tanh(string name, TensorShape shape) : ActivationLayer(name, shape)
{
    public override string Describe() => "tanh";
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => Elementwise.Tanh(x, y);
    protected override void Differentiate(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Elementwise.TanhBackward(y, dy, dx);
}

/// <summary>Rectified linear unit, <c>y = max(x, 0)</c>; the gradient at 0 is taken as 0.</summary>
public sealed class Relu(string name, TensorShape shape) : ActivationLayer(name, shape)
{
    public override string Describe() => "relu";
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => Elementwise.Relu(x, y);
    protected override void Differentiate(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Elementwise.ReluBackward(y, dy, dx);
}
