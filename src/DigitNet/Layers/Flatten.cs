using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Reshapes each sample to a vector: x <c>[N, C, H, W]</c> (or any sample shape) to y
/// <c>[N, C*H*W]</c>, row-major, so <c>y[n, (c*H + h)*W + w] = x[n, c, h, w]</c>. Nothing is
/// copied: y shares x's storage and dx shares dy's, so both stay valid only as long as the
/// tensors they view. A dense layer reads any sample shape as a vector by itself, so this layer is
/// needed only where a later layer requires a rank-1 sample, such as 1-D batch normalisation.
/// </summary>
public sealed class Flatten : Layer
{
    private Tensor? _y, _dx;
    private int _batch = -1;

    public Flatten(string name, TensorShape inputShape) : base(name, inputShape, new TensorShape(inputShape.Size)) { }

    public override string Describe() => $"flatten {InputShape} -> {OutputShape}";

    /// <summary>x: <c>[N, ..InputShape]</c>; y: <c>[N, size of InputShape]</c>, sharing x's storage.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        _batch = x.Shape[0];
        return View(ref _y, x, OutputShape.WithBatch(_batch));
    }

    /// <summary>dy: <c>[N, size]</c>; returns dx: <c>[N, ..InputShape]</c>, sharing dy's storage.</summary>
    public override Tensor? Backward(Tensor dy)
    {
        if (_batch < 0) throw new InvalidOperationException($"{Name}: Backward called before Forward");
        if (!ComputesInputGradient) return null;
        return View(ref _dx, dy, InputShape.WithBatch(dy.Shape[0]));
    }

    // A tensor wrapper is created only when the viewed storage changes, which happens when the
    // producing layer grows its buffer; otherwise the cached wrapper is reshaped in place.
    private static Tensor View(ref Tensor? view, Tensor source, TensorShape shape)
    {
        if (view is null || !ReferenceEquals(view.Data, source.Data)) view = new Tensor(shape, source.Data);
        else view.Reshape(shape);
        return view;
    }
}
