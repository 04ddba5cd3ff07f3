using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Max pooling: <c>y[n, c, oy, ox]</c> is the largest <c>x[n, c, iy, ix]</c> in the
/// <c>K x K</c> window at <c>(oy * S - P, ox * S - P)</c>. x: <c>[N, C, H, W]</c>;
/// y: <c>[N, C, OH, OW]</c> with <c>OH = (H + 2P - K) / S + 1</c>. Backward routes each
/// <c>dy</c> to the input element that won its window (the first one on ties) and adds where
/// windows overlap. Padding never wins. Channel planes run in parallel.
/// </summary>
public sealed class MaxPool2D : Layer
{
    private readonly ConvGeometry _geometry;
    private readonly PlaneJob _job;
    private int[] _argmax = [];
    private Tensor? _x, _y, _dx, _dy;
    private bool _backward;

    /// <summary>Creates a pooling layer with a <paramref name="size"/> x <paramref name="size"/> window; the stride defaults to the window size.</summary>
    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c>, the window does not fit, or the padding is not smaller than the window.</exception>
    public MaxPool2D(string name, TensorShape inputShape, int size, int? stride = null, int padding = 0)
        : this(name, inputShape, PoolGeometry.Create(name, "max pooling", inputShape, size, stride ?? size, padding)) { }

    private MaxPool2D(string name, TensorShape inputShape, ConvGeometry geometry)
        : base(name, inputShape, new TensorShape(geometry.Channels, geometry.OutHeight, geometry.OutWidth))
    {
        _geometry = geometry;
        _job = new PlaneJob(this);
    }

    /// <summary>Window size, stride and padding.</summary>
    public ConvGeometry Geometry => _geometry;

    public override string Describe() => PoolGeometry.Describe("maxpool", _geometry);

    /// <summary>x: <c>[N, C, H, W]</c>; y: <c>[N, C, OH, OW]</c>.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        int n = x.Shape[0];
        _x = x;
        _y = EnsureBuffer(ref _y, n, OutputShape);
        int slots = _y.Size;
        if (_argmax.Length < slots) _argmax = new int[slots];
        Run(backward: false, n * _geometry.Channels);
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
        // The tensor spans are taken once per range: planes can be as small as 4x4, where
        // recomputing them for each plane cost as much as the pooling itself.
        int inPlane = _geometry.InputPlaneSize, outPlane = _geometry.OutputPlaneSize;
        if (!_backward)
        {
            ReadOnlySpan<float> x = _x!.Span;
            Span<float> y = _y!.Span;
            for (int p = begin; p < end; p++)
                Pooling.MaxForward(x.Slice(p * inPlane, inPlane), _geometry, y.Slice(p * outPlane, outPlane), _argmax.AsSpan(p * outPlane, outPlane));
            return;
        }

        Span<float> dx = _dx!.Span;
        ReadOnlySpan<float> dy = _dy!.Span;
        for (int p = begin; p < end; p++)
        {
            var plane = dx.Slice(p * inPlane, inPlane);
            plane.Clear();
            Pooling.MaxBackward(dy.Slice(p * outPlane, outPlane), _argmax.AsSpan(p * outPlane, outPlane), plane);
        }
    }

    /// <summary>Runs forward or backward over a range of channel planes; cached so no pass allocates.</summary>
    private sealed class PlaneJob(MaxPool2D layer) : IParallelJob
    {
        public void Execute(int begin, int end, int worker) => layer.RunPlanes(begin, end);
    }
}

/// <summary>Checks and descriptions shared by the pooling layers.</summary>
internal static class PoolGeometry
{
    /// <summary>The geometry of a square window over <c>[C, H, W]</c>, with errors that name the layer.</summary>
    public static ConvGeometry Create(string name, string what, TensorShape input, int size, int stride, int padding)
    {
        if (input.Rank != 3)
            throw new ArgumentException($"{name}: {what} needs input samples [C, H, W], got {input}; put it before any dense or flatten layer");
        if (padding < 0 || padding >= size)
            throw new ArgumentException($"{name}: {what} padding {padding} must be at least 0 and smaller than the window size {size}");
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
