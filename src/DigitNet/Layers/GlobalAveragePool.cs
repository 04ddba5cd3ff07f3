using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Global average pooling (Lin et al., 2014, https://arxiv.org/abs/1312.4400): the mean of each
/// channel plane. x: <c>[N, C, H, W]</c>; y: <c>[N, C]</c>, <c>y[n, c] = mean over (h, w) of x[n, c, h, w]</c>.
/// Backward spreads <c>dy[n, c] / (H * W)</c> over the plane.
/// </summary>
public sealed class GlobalAveragePool : Layer
{
    private readonly int _channels, _planeSize;
    private Tensor? _y, _dx;
    private int _batch = -1;

    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c>.</exception>
    public GlobalAveragePool(string name, TensorShape inputShape)
        : base(name, inputShape, new TensorShape(ChannelsOf(name, inputShape)))
    {
        _channels = inputShape[0];
        _planeSize = inputShape[1] * inputShape[2];
    }

    public override string Describe() => $"global average pool {InputShape[1]}x{InputShape[2]}";

    /// <summary>x: <c>[N, C, H, W]</c>; y: <c>[N, C]</c>.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        int n = x.Shape[0];
        var y = EnsureBuffer(ref _y, n, OutputShape);
        var xs = x.Span;
        var ys = y.Span;
        float scale = 1f / _planeSize;
        for (int p = 0; p < n * _channels; p++)
            ys[p] = TensorPrimitives.Sum(xs.Slice(p * _planeSize, _planeSize)) * scale;
        _batch = n;
        return y;
    }

    /// <summary>dy: <c>[N, C]</c>; returns dx: <c>[N, C, H, W]</c>.</summary>
    public override Tensor? Backward(Tensor dy)
    {
        if (_batch < 0) throw new InvalidOperationException($"{Name}: Backward called before Forward");
        if (!ComputesInputGradient) return null;
        var dx = EnsureBuffer(ref _dx, _batch, InputShape);
        var dxs = dx.Span;
        var dys = dy.Span;
        float scale = 1f / _planeSize;
        for (int p = 0; p < _batch * _channels; p++)
            dxs.Slice(p * _planeSize, _planeSize).Fill(dys[p] * scale);
        return dx;
    }

    private static int ChannelsOf(string name, TensorShape input) => input.Rank == 3
        ? input[0]
        : throw new ArgumentException($"{name}: global average pooling needs input samples [C, H, W], got {input}");
}
