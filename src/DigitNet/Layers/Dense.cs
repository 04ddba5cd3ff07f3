using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Fully connected layer: <c>y[N, out] = x[N, in] W^T + b</c> with <c>W</c> of shape <c>[out, in]</c>
/// and <c>b</c> of shape <c>[out]</c>. An input sample of any shape is read as a flat vector of
/// <c>in</c> features, so no explicit flatten is needed after a convolution.
/// </summary>
public sealed class Dense : Layer
{
    private readonly Parameter _weight;
    private readonly Parameter? _bias;
    private readonly Parameter[] _parameters;
    private readonly int _in, _out;
    private Tensor? _x, _y, _dx;

    public Dense(string name, TensorShape inputShape, int outputs, bool bias = true)
        : base(name, inputShape, new TensorShape(outputs))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        _in = inputShape.Size;
        _out = outputs;
        _weight = new Parameter($"{name}.weight", new TensorShape(_out, _in), ParameterKind.Weight);
        _bias = bias ? new Parameter($"{name}.bias", new TensorShape(_out), ParameterKind.Bias) : null;
        _parameters = _bias is null ? [_weight] : [_weight, _bias];
    }

    /// <summary>Weight <c>[out, in]</c>.</summary>
    public Parameter Weight => _weight;

    /// <summary>Bias <c>[out]</c>, or null when the layer has none.</summary>
    public Parameter? Bias => _bias;

    public override IReadOnlyList<Parameter> Parameters => _parameters;

    public override string Describe() => $"dense {_in} -> {_out}{(_bias is null ? " (no bias)" : "")}";

    public override void Initialize(WeightInit init, RandomSource random)
    {
        WeightInitializer.Fill(_weight.Value, init, _in, _out, random);
        _bias?.Value.Clear();
    }

    /// <summary>x: <c>[N, ..InputShape]</c> read as <c>[N, in]</c>; y: <c>[N, out]</c>.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        int n = x.Shape[0];
        var y = EnsureBuffer(ref _y, n, OutputShape);

        // y = x W^T (+ b)
        Gemm.Multiply(false, true, n, _out, _in, x.Span, _in, _weight.Value, _in, y.Span, _out, workers: Workers);
        if (_bias is not null) Elementwise.AddRowVector(y.Span, _bias.Value, n);

        _x = x;
        return y;
    }

    /// <summary>dy: <c>[N, out]</c>; returns dx: <c>[N, ..InputShape]</c>.</summary>
    public override Tensor? Backward(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"{Name}: Backward called before Forward");
        int n = x.Shape[0];

        // dW[out, in] = dy^T x
        Gemm.Multiply(true, false, _out, _in, n, dy.Span, _out, x.Span, _in, _weight.Gradient, _in, workers: Workers);

        // db[out] = sum over the batch of dy
        if (_bias is not null) Elementwise.SumRows(dy.Span, n, _bias.Gradient);

        if (!ComputesInputGradient) return null;

        // dx[N, in] = dy W
        var dx = EnsureBuffer(ref _dx, n, InputShape);
        Gemm.Multiply(false, false, n, _in, _out, dy.Span, _out, _weight.Value, _in, dx.Span, _in, workers: Workers);
        return dx;
    }
}
