using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Average pooling: <c>y[n, c, oy, ox]</c> is the mean of the <c>K x K</c> window of
/// <c>x[n, c]</c> at <c>(oy * S - P, ox * S - P)</c>, where padding counts as zeros in a window of
/// <c>K * K</c> elements. x: <c>[N, C, H, W]</c>; y: <c>[N, C, OH, OW]</c> with
/// <c>OH = (H + 2P - K) / S + 1</c>. Backward spreads each <c>dy</c> evenly over its window.
/// Channel planes run in parallel.
/// </summary>
public sealed class AvgPool2D : Layer
{
    private readonly ConvGeometry _geometry;
    private readonly PlaneJob _job;
    private Tensor? _x, _y, _dx, _dy;
    private bool _backward;

    /// <summary>Creates a pooling layer with a <paramref name="size"/> x <paramref name="size"/> window; the stride defaults to the window size.</summary>
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c>, the window does not fit, or the padding is not smaller than the window.</exception>
    public AvgPool2D(string name, TensorShape inputShape, int size, int? stride = null, int padding = 0)
        : this(name, inputShape, PoolGeometry.Create(name, "average pooling", inputShape, size, stride ?? size, padding)) { }

    private AvgPool2D(string name, TensorShape inputShape, ConvGeometry geometry)
        : base(name, inputShape, new TensorShape(geometry.Channels, geometry.OutHeight, geometry.OutWidth))
    {
        _geometry = geometry;
        _job = new PlaneJob(this);
    }

    /// <summary>Window size, stride and padding.</summary>
    public ConvGeometry Geometry => _geometry;

    public override string Describe() => PoolGeometry.Describe("avgpool", _geometry);

    /// <summary>x: <c>[N, C, H, W]</c>; y: <c>[N, C, OH, OW]</c>.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        _x = x;
        _y = EnsureBuffer(ref _y, x.Shape[0], OutputShape);
        Run(backward: false, x.Shape[0] * _geometry.Channels);
        return _y;
    }

    /// <summary>dy: <c>[N, C, OH, OW]</c>; returns dx: <c>[N, C, H, W]</c>.</summary>
    public override Tensor? Backward(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"{Name}: Backward called before Forward");
        if (!ComputesInputGradient) return null;
        _dx = EnsureBuffer(ref _dx, x.Shape[0], InputShape);
        _dy = dy;
        Run(backward: true, x.Shape[0] * _geometry.Channels);
        _dy = null;
        return _dx;
    }

    private void Run(bool backward, int planes)
    {
        _backward = backward;
        if (Workers is null) _job.Execute(0, planes, 0);
        else Workers.Run(_job, planes);
    }

    private void RunPlanes(int begin, int end)
    {
        // The tensor spans are taken once per range, because planes can be as small as 4x4.
        int inPlane = _geometry.InputPlaneSize, outPlane = _geometry.OutputPlaneSize;
        if (!_backward)
        {
            ReadOnlySpan<float> x = _x!.Span;
            Span<float> y = _y!.Span;
            for (int p = begin; p < end; p++)
                Pooling.AverageForward(x.Slice(p * inPlane, inPlane), _geometry, y.Slice(p * outPlane, outPlane));
            return;
        }

        Span<float> dx = _dx!.Span;
        ReadOnlySpan<float> dy = _dy!.Span;
        for (int p = begin; p < end; p++)
        {
            var plane = dx.Slice(p * inPlane, inPlane);
            plane.Clear();
            Pooling.AverageBackward(dy.Slice(p * outPlane, outPlane), _geometry, plane);
        }
    }

    /// <summary>Runs forward or backward over a range of channel planes; cached so no pass allocates.</summary>
    private sealed class PlaneJob(AvgPool2D layer) : IParallelJob
    {
        public void Execute(int begin, int end, int worker) => layer.RunPlanes(begin, end);
    }
}
