using DigitNet.Kernels;
using DigitNet.Layers;

namespace DigitNet.Optimizers;

/// <summary>
/// Updates parameters from their gradients. An optimiser sees only the list of named parameters,
/// never the layers; frozen parameters are skipped, and weight decay applies only to weights.
/// </summary>
/// <remarks>
/// A step updates the parameters in slices of at most <see cref="SliceLength"/> values. With a
/// worker pool and enough parameters, the slices are spread across the threads, balanced, so a
/// faster core takes slices from a slower one. Every value is updated on its own by the same
/// code, so results depend neither on the thread count nor on which thread updates a slice.
/// </remarks>
public abstract class Optimizer
{
    // An estimate: a step over fewer values than this, like the 13,000 of the report's baseline
    // network updated after every sample, takes a few microseconds, less than a hand-off to the pool.
    private const int ParallelThreshold = 1 << 15;
    private const int SliceLength = 4096;

    private readonly Parameter[] _parameters;
    private readonly (int Parameter, int Offset, int Length)[] _slices;
    private readonly bool _parallel;
    private readonly SliceJob _job;

    protected Optimizer(IReadOnlyList<Parameter> parameters, double learningRate, double weightDecay)
    {
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning rate must be a positive number");
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be zero or positive");
        _parameters = parameters.ToArray();
        LearningRate = learningRate;
        WeightDecay = weightDecay;

        var slices = new List<(int, int, int)>();
        for (int i = 0; i < _parameters.Length; i++)
        {
            for (int offset = 0; offset < _parameters[i].Length; offset += SliceLength)
                slices.Add((i, offset, Math.Min(SliceLength, _parameters[i].Length - offset)));
        }
        _slices = [.. slices];
        _parallel = _parameters.Sum(p => (long)p.Length) >= ParallelThreshold;
        _job = new SliceJob(this);
    }

    /// <summary>Pool that large steps are split across; null runs on the calling thread.</summary>
    public WorkerPool? Workers { get; set; }

    /// <summary>Step size; a learning-rate schedule may change it between steps.</summary>
    public double LearningRate { get; set; }

    /// <summary>L2 penalty coefficient <c>lambda</c> (the loss gains <c>lambda/2 * |W|^2</c>).</summary>
    public double WeightDecay { get; }

    /// <summary>Number of steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>Applies one update to every trainable parameter from its current gradient.</summary>
    public void Step()
    {
        StepCount++;
        if (_parallel && Workers is not null)
            Workers.RunBalanced(_job, _slices.Length);
        else
            UpdateSlices(0, _slices.Length);
    }

    private void UpdateSlices(int begin, int end)
    {
        for (int s = begin; s < end; s++)
        {
            var (index, offset, length) = _slices[s];
            var parameter = _parameters[index];
            if (parameter.Frozen || parameter.Kind == ParameterKind.Statistic) continue;
            float decay = parameter.Kind == ParameterKind.Weight ? (float)WeightDecay : 0f;
            Update(index, offset, parameter.Value.Slice(offset, length), parameter.Gradient.Slice(offset, length), decay);
        }
    }

    /// <summary>
    /// Updates the values [<paramref name="offset"/>, + length) of parameter number
    /// <paramref name="index"/> in place; <paramref name="value"/> and <paramref name="gradient"/>
    /// are that slice.
    /// </summary>
    protected abstract void Update(int index, int offset, Span<float> value, Span<float> gradient, float decay);

    /// <summary>Allocates one zeroed state buffer per parameter.</summary>
    protected float[][] CreateState() => _parameters.Select(p => new float[p.Length]).ToArray();

    /// <summary>Updates a range of slices; cached so a step allocates nothing.</summary>
    private sealed class SliceJob(Optimizer optimizer) : IParallelJob
    {
        public void Execute(int begin, int end, int worker) => optimizer.UpdateSlices(begin, end);
    }
}
