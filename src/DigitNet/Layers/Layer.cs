using DigitNet.Kernels;
using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// One step of a network. <see cref="Forward"/> maps a batch <c>x</c> to <c>y</c> and keeps what
/// <see cref="Backward"/> needs; <see cref="Backward"/> takes <c>dy = dL/dy</c>, overwrites the
/// gradient of every parameter of the layer (it does not accumulate) and returns <c>dx = dL/dx</c>.
/// Shapes carry the batch first. Output and gradient tensors are buffers owned by the layer and
/// reused by the next call, so callers must not keep them across calls.
/// </summary>
public abstract class Layer
{
    private static readonly Parameter[] NoParameters = [];

    protected Layer(string name, TensorShape inputShape, TensorShape outputShape)
    {
        Name = name;
        InputShape = inputShape;
        OutputShape = outputShape;
    }

    /// <summary>Unique name inside the network (<c>dense1</c>, <c>conv2</c>).</summary>
    public string Name { get; }

    /// <summary>Shape of one input sample, without the batch dimension.</summary>
    public TensorShape InputShape { get; }

    /// <summary>Shape of one output sample, without the batch dimension.</summary>
    public TensorShape OutputShape { get; }

    /// <summary>Trainable parameters, in a fixed order.</summary>
    public virtual IReadOnlyList<Parameter> Parameters => NoParameters;

    /// <summary>
    /// When false, <see cref="Backward"/> may skip computing <c>dx</c> and return null. The
    /// network clears it on its first layer, whose input gradient nobody reads.
    /// </summary>
    public bool ComputesInputGradient { get; set; } = true;

    /// <summary>
    /// Smallest batch that <see cref="Forward"/> accepts in training mode: 1 unless the layer
    /// estimates statistics over the batch, as batch normalisation does.
    /// </summary>
    public virtual int MinTrainingBatchSize => 1;

    /// <summary>Threads for the layer's kernels; null runs them on the calling thread.</summary>
    public WorkerPool? Workers { get; set; }

    /// <summary>Short description for summaries, e.g. <c>dense 256 -> 50</c>.</summary>
    public abstract string Describe();

    /// <summary>Computes <c>y</c> for a batch <c>x</c> of shape <c>[N, ..InputShape]</c>.</summary>
    public abstract Tensor Forward(Tensor x, bool training);

    /// <summary>Backpropagates <c>dy</c> of shape <c>[N, ..OutputShape]</c> through the last forward call.</summary>
    public abstract Tensor? Backward(Tensor dy);

    /// <summary>Sets the initial values of the parameters.</summary>
    public virtual void Initialize(WeightInit init, RandomSource random) { }

    /// <summary>Throws when <paramref name="x"/> does not have shape <c>[N, ..InputShape]</c>.</summary>
    protected void CheckInput(Tensor x)
    {
        var shape = x.Shape;
        if (shape.Rank != InputShape.Rank + 1 || shape.SampleShape != InputShape)
            throw new ArgumentException($"{Name}: expected input [N, {InputShape.ToString()[1..]}, got {shape}");
    }

    /// <summary>Resizes a layer-owned buffer to <c>[batch, ..sampleShape]</c>, allocating only to grow.</summary>
    protected static Tensor EnsureBuffer(ref Tensor? buffer, int batch, TensorShape sampleShape)
    {
        var shape = sampleShape.WithBatch(batch);
        if (buffer is null) buffer = new Tensor(shape);
        else buffer.Reshape(shape);
        return buffer;
    }

    public override string ToString() => $"{Name}: {Describe()}";
}

/// <summary>Initialisation schemes for weights; biases always start at zero.</summary>
public enum WeightInit
{
    /// <summary>Normal(0, 1/fan_in): the classic backprop scheme.</summary>
    Normal,
    /// <summary>Xavier/Glorot uniform, bound sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010).</summary>
    Xavier,
    /// <summary>He normal, std sqrt(2 / fan_in) (He et al., 2015).</summary>
    He,
}

/// <summary>Draws initial weights for a <see cref="WeightInit"/> scheme.</summary>
internal static class WeightInitializer
{
    /// <summary>
    /// Fills <paramref name="weights"/> with draws from <paramref name="random"/>, in order, for a
    /// layer whose units each see <paramref name="fanIn"/> inputs and feed <paramref name="fanOut"/> outputs.
    /// </summary>
    public static void Fill(Span<float> weights, WeightInit init, int fanIn, int fanOut, RandomSource random)
    {
        switch (init)
        {
            case WeightInit.Normal:
                FillNormal(weights, 1 / Math.Sqrt(fanIn), random);
                break;
            case WeightInit.Xavier:
                double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < weights.Length; i++) weights[i] = (float)random.Uniform(-bound, bound);
                break;
            case WeightInit.He:
                FillNormal(weights, Math.Sqrt(2.0 / fanIn), random);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(init), init, "unknown weight initialisation");
        }
    }

    private static void FillNormal(Span<float> weights, double std, RandomSource random)
    {
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)(std * random.NextNormal());
    }
}
