using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// Base of the element-wise activations: <c>y = f(x)</c> with the same shape as <c>x</c>. Backward
/// uses the saved output <c>y</c>, which is all that sigmoid, tanh and ReLU need.
/// </summary>
public abstract class ActivationLayer : Layer
{
    // Tensors of at least this many elements are split across the worker pool, in blocks of
    // BlockSize. Below it the hand-off to the workers costs about as much as the second thread
    // saves (an estimate from the CNN benchmark, where the largest activation has 262,144 values).
    private const int ParallelThreshold = 1 << 15;
    private const int BlockSize = 4096;

    private readonly BlockJob _job;
    private Tensor? _y, _dx;

    protected ActivationLayer(string name, TensorShape shape) : base(name, shape, shape)
    {
        _job = new BlockJob(this);
    }

    protected abstract void Apply(ReadOnlySpan<float> x, Span<float> y);
    protected abstract void Differentiate(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx);

    public override Tensor Forward(Tensor x, bool training)
    {
        CheckInput(x);
        var y = EnsureBuffer(ref _y, x.Shape[0], OutputShape);
        Run(x, y, dy: null, dx: null);
        return y;
    }

    public override Tensor? Backward(Tensor dy)
    {
        var y = _y ?? throw new InvalidOperationException($"{Name}: Backward called before Forward");
        if (!ComputesInputGradient) return null;
        var dx = EnsureBuffer(ref _dx, y.Shape[0], InputShape);
        Run(x: null, y, dy, dx);
        return dx;
    }

    /// <summary>
    /// Runs the forward pass (<paramref name="dy"/> null) or the backward pass. A large tensor is
    /// processed in blocks, spread across the workers when there is a pool. The blocks are the same
    /// with or without a pool, so every element goes through the same vector code and the result
    /// does not depend on the thread count.
    /// </summary>
    private void Run(Tensor? x, Tensor y, Tensor? dy, Tensor? dx)
    {
        int size = y.Size;
        if (size < ParallelThreshold)
        {
            RunBlock(x, y, dy, dx, 0, size);
            return;
        }

        int blocks = (size + BlockSize - 1) / BlockSize;
        _job.Set(x, y, dy, dx);
        try
        {
            if (Workers is null) _job.Execute(0, blocks, 0);
            else Workers.Run(_job, blocks);
        }
        finally
        {
            _job.Set(null, null, null, null);
        }
    }

    private void RunBlock(Tensor? x, Tensor y, Tensor? dy, Tensor? dx, int start, int length)
    {
        if (dy is null)
            Apply(x!.Span.Slice(start, length), y.Span.Slice(start, length));
        else
            Differentiate(y.Span.Slice(start, length), dy.Span.Slice(start, length), dx!.Span.Slice(start, length));
    }

    /// <summary>One pass over a range of blocks; cached per layer so no pass allocates.</summary>
    private sealed class BlockJob(ActivationLayer layer) : IParallelJob
    {
        private Tensor? _x, _y, _dy, _dx;

        public void Set(Tensor? x, Tensor? y, Tensor? dy, Tensor? dx)
        {
            _x = x;
            _y = y;
            _dy = dy;
            _dx = dx;
        }

        public void Execute(int begin, int end, int worker)
        {
            int start = begin * BlockSize;
            int length = Math.Min(end * BlockSize, _y!.Size) - start;
            layer.RunBlock(_x, _y, _dy, _dx, start, length);
        }
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
