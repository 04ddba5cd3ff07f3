using DigitNet.Kernels;
using DigitNet.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace DigitNet.Layers;

/// <summary>
/// Global average pooling (Lin et al., 2014, https://arxiv.org/abs/1312.4400): the mean of each
/// channel plane. x: <c>[N, C, H, W]</c>; y: <c>[N, C]</c>, <c>y[n, c] = mean over (h, w) of x[n, c, h, w]</c>.
/// Backward spreads <c>dy[n, c] / (H * W)</c> over the plane. Planes run in parallel.
/// </summary>
public sealed class GlobalAveragePool : Layer
{
    private readonly int _channels, _planeSize;
    private readonly PlaneJob _job;
    private Tensor? _x, _y, _dx, _dy;
    private int _batch = -1;
    private bool _backward;

    /// <exception cref="ArgumentException">The input is not <c>[C, H, W]</c>.</exception>
    public GlobalAveragePool(string name, TensorShape inputShape)
        : base(name, inputShape, new TensorShape(ChannelsOf(name, inputShape)))
    {
        _channels = inputShape[0];
        _planeSize = inputShape[1] * inputShape[2];
        _job = new PlaneJob(this);
    }

    public override string Describe() => $"global average pool {InputShape[1]}x{InputShape[2]}";

    /// <summary>x: <c>[N, C, H, W]</c>; y: <c>[N, C]</c>.</summary>
    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        _batch = x.Shape[0];
        _x = x;
        _y = EnsureBuffer(ref _y, _batch, OutputShape);
        Run(backward: false);
        return _y;
    }

    /// <summary>dy: <c>[N, C]</c>; returns dx: <c>[N, C, H, W]</c>.</summary>
    public override Tensor? Backward(Tensor dy)
    {
        if (_batch < 0) throw new InvalidOperationException($"{Name}: Backward called before Forward");
        if (!ComputesInputGradient) return null;
        _dx = EnsureBuffer(ref _dx, _batch, InputShape);
        _dy = dy;
        Run(backward: true);
        _dy = null;
        return _dx;
    }

    private void Run(bool backward)
    {
        _backward = backward;
        int planes = _batch * _channels;
        if (Workers is null) _job.Execute(0, planes, 0);
        else Workers.Run(_job, planes);
    }

    private void RunPlanes(int begin, int end)
    {
        float scale = 1f / _planeSize;
        if (!_backward)
        {
            ReadOnlySpan<float> x = _x!.Span;
            Span<float> y = _y!.Span;
            for (int p = begin; p < end; p++) y[p] = TensorPrimitives.Sum(x.Slice(p * _planeSize, _planeSize)) * scale;
            return;
        }

        Span<float> dx = _dx!.Span;
        ReadOnlySpan<float> dy = _dy!.Span;
        for (int p = begin; p < end; p++) dx.Slice(p * _planeSize, _planeSize).Fill(dy[p] * scale);
    }

    private static int ChannelsOf(string name, TensorShape input) => input.Rank == 3
        ? input[0]
        : throw new ArgumentException($"{name}: global average pooling needs input samples [C, H, W], got {input}");

    /// <summary>Runs forward or backward over a range of planes; cached so no pass allocates.</summary>
    private sealed class PlaneJob(GlobalAveragePool layer) : IParallelJob
    {
        public void Execute(int begin, int end, int worker) => layer.RunPlanes(begin, end);
    }
}
