using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Average pooling: <c>y[n, c, oy, ox]</c> is the mean of the <c>K x K</c> window of
/// <c>x[n, c]</c> at <c>(oy * S - P, ox * S - P)</c>, where padding counts as zeros in a window of
/// <c>K * K</c> elements. x: <c>[N, C, H, W]</c>; y: <c>[N, C, OH, OW]</c> with
/// <c>OH = (H + 2P - K) / S + 1</c>. Backward spreads each <c>dy</c> evenly over its window.
/// </summary>
public sealed class AvgPool2D : Pool2D
{
    /// <summary>Creates a pooling layer with a <paramref name="size"/> x <paramref name="size"/> window; the stride defaults to the window size.</summary>
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c>, the window does not fit, or the padding is not smaller than the window.</exception>
    public AvgPool2D(string name, TensorShape inputShape, int size, int? stride = null, int padding = 0)
        : base(name, inputShape, PoolGeometry.Create(name, "average pooling", inputShape, size, stride ?? size, padding)) { }

    public override string Describe() => PoolGeometry.Describe("avgpool", Geometry);

    private protected override void PoolPlane(ReadOnlySpan<float> x, Span<float> y, int outputOffset) =>
        Pooling.AverageForward(x, Geometry, y);

    private protected override void RouteGradient(ReadOnlySpan<float> dy, Span<float> dx, int outputOffset) =>
        Pooling.AverageBackward(dy, Geometry, dx);
}
