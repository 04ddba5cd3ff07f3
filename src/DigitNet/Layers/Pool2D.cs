using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// A pooling layer: each channel plane of <c>x[N, C, H, W]</c> maps to a plane of
/// <c>y[N, C, OH, OW]</c> through a square window, with <c>OH = (H + 2P - K) / S + 1</c>. Planes
/// are independent, so they run in parallel, and a faster core takes planes from a slower one.
/// </summary>
public abstract class Pool2D : Layer
{
    private readonly ConvGeometry _geometry;
    private readonly PlaneJob _job;
    private Tensor? _x, _y, _dx, _dy;
    private bool _backward;

    private protected Pool2D(string name, TensorShape inputShape, ConvGeometry geometry)
        : base(name, inputShape, new TensorShape(geometry.Channels, geometry.OutHeight, geometry.OutWidth))
    {
        _geometry = geometry;
        _job = new PlaneJob(this);
    }

    /// <summary>Window size, stride and padding.</summary>
    public ConvGeometry Geometry => _geometry;

    /// <summary>x: <c>[N, C, H, W]</c>; y: <c>[N, C, OH, OW]</c>.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        _x = x;
        _y = EnsureBuffer(ref _y, x.Shape[0], OutputShape);
        PrepareForward(_y.Size);
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

    /// <summary>Gets the layer ready for a forward pass whose output has <paramref name="outputSize"/> elements.</summary>
    private protected virtual void PrepareForward(int outputSize) { }

    /// <summary>Pools input plane <paramref name="x"/> into output plane <paramref name="y"/>, the plane at <paramref name="outputOffset"/> of y.</summary>
    private protected abstract void PoolPlane(ReadOnlySpan<float> x, Span<float> y, int outputOffset);

    /// <summary>Adds output gradient plane <paramref name="dy"/> onto the zeroed input gradient plane <paramref name="dx"/>.</summary>
    private protected abstract void RouteGradient(ReadOnlySpan<float> dy, Span<float> dx, int outputOffset);

    private void Run(bool backward, int planes)
    {
        _backward = backward;
        if (Workers is null)
        {
            _job.Execute(0, planes, 0);
            return;
        }

        // Chunks of planes, so that taking a chunk costs little next to pooling it. Which worker
        // pools a plane never changes its result.
        _job.PlanesPerChunk = (planes + ChunksPerThread * Workers.ThreadCount - 1) / (ChunksPerThread * Workers.ThreadCount);
        Workers.RunBalanced(_job, (planes + _job.PlanesPerChunk - 1) / _job.PlanesPerChunk);
        _job.PlanesPerChunk = 1;
    }

    // Enough chunks for a faster core to take over a fair share of a slower one's.
    private const int ChunksPerThread = 8;

    private void RunPlanes(int begin, int end)
    {
        // The tensor spans are taken once per range: planes can be as small as 4x4, where
        // recomputing them for each plane cost as much as the pooling itself.
        int inPlane = _geometry.InputPlaneSize, outPlane = _geometry.OutputPlaneSize;
        if (!_backward)
        {
            ReadOnlySpan<float> x = _x!.Span;
            Span<float> y = _y!.Span;
            for (int p = begin; p < end; p++)
                PoolPlane(x.Slice(p * inPlane, inPlane), y.Slice(p * outPlane, outPlane), p * outPlane);
            return;
        }

        Span<float> dx = _dx!.Span;
        ReadOnlySpan<float> dy = _dy!.Span;
        for (int p = begin; p < end; p++)
        {
            var plane = dx.Slice(p * inPlane, inPlane);
            plane.Clear();
            RouteGradient(dy.Slice(p * outPlane, outPlane), plane, p * outPlane);
        }
    }

    /// <summary>Runs forward or backward over a range of chunks of planes; cached so no pass allocates.</summary>
    private sealed class PlaneJob(Pool2D layer) : IParallelJob
    {
        public int PlanesPerChunk = 1;

        public void Execute(int begin, int end, int worker)
        {
            int planes = layer._x!.Shape[0] * layer._geometry.Channels;
            layer.RunPlanes(begin * PlanesPerChunk, Math.Min(end * PlanesPerChunk, planes));
        }
    }
}

/// <summary>Checks and descriptions shared by the pooling layers.</summary>
internal static class PoolGeometry
{
    /// <summary>The geometry of a square window over <c>[C, H, W]</c>, with errors that name the layer.</summary>
    public static ConvGeometry Create(string name, string layerKind, TensorShape input, int size, int stride, int padding)
    {
        if (input.Rank != 3)
            throw new ArgumentException($"{name}: {layerKind} needs input samples [C, H, W], got {input}; put it before any dense or flatten layer");
        if (padding < 0 || padding >= size)
            throw new ArgumentException($"{name}: {layerKind} padding {padding} must be at least 0 and smaller than the window size {size}");
        try
        {
            return new ConvGeometry(input[0], input[1], input[2], size, size, stride, stride, padding, padding);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{name}: {e.Message} (input {input})", e);
        }
    }

    /// <summary>Text such as <c>maxpool 2x2 stride 2</c>.</summary>
    public static string Describe(string kind, ConvGeometry g)
    {
        string text = $"{kind} {g.KernelHeight}x{g.KernelWidth} stride {g.StrideHeight}";
        return g.PadHeight == 0 ? text : text + $" pad {g.PadHeight}";
    }
}
