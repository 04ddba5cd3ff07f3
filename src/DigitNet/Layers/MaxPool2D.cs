using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Max pooling: <c>y[n, c, oy, ox]</c> is the largest <c>x[n, c, iy, ix]</c> in the
/// <c>K x K</c> window at <c>(oy * S - P, ox * S - P)</c>. x: <c>[N, C, H, W]</c>;
/// y: <c>[N, C, OH, OW]</c> with <c>OH = (H + 2P - K) / S + 1</c>. Backward routes each
/// <c>dy</c> to the input element that won its window (the first one on ties) and adds where
/// windows overlap. Padding never wins.
/// </summary>
public sealed class MaxPool2D : Pool2D
{
    // For each output element, the index in its input plane of the element that won the window.
    private int[] _argmax = [];

    /// <summary>Creates a pooling layer with a <paramref name="size"/> x <paramref name="size"/> window; the stride defaults to the window size.</summary>
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c>, the window does not fit, or the padding is not smaller than the window.</exception>
    public MaxPool2D(string name, TensorShape inputShape, int size, int? stride = null, int padding = 0)
        : base(name, inputShape, PoolGeometry.Create(name, "max pooling", inputShape, size, stride ?? size, padding)) { }

    public override string Describe() => PoolGeometry.Describe("maxpool", Geometry);

    private protected override void PrepareForward(int outputSize)
    {
        if (_argmax.Length < outputSize) _argmax = new int[outputSize];
    }

    private protected override void PoolPlane(ReadOnlySpan<float> x, Span<float> y, int outputOffset) =>
        Pooling.MaxForward(x, Geometry, y, _argmax.AsSpan(outputOffset, y.Length));

    private protected override void RouteGradient(ReadOnlySpan<float> dy, Span<float> dx, int outputOffset) =>
        Pooling.MaxBackward(dy, _argmax.AsSpan(outputOffset, dy.Length), dx);
}
