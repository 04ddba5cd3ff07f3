using DigitNet.Layers;

namespace DigitNet.Optimizers;

/// <summary>
/// Updates parameters from their gradients. An optimiser sees only the list of named parameters,
/// never the layers; frozen parameters are skipped, and weight decay applies only to weights.
/// </summary>
public abstract class Optimizer
{
    private readonly Parameter[] _parameters;

    protected Optimizer(IReadOnlyList<Parameter> parameters, double learningRate, double weightDecay)
    {
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning rate must be a positive number");
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be zero or positive");
        _parameters = parameters.ToArray();
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }

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
        for (int i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            if (parameter.Frozen || parameter.Kind == ParameterKind.Statistic) continue;
            float decay = parameter.Kind == ParameterKind.Weight ? (float)WeightDecay : 0f;
            Update(i, parameter.Value, parameter.Gradient, decay);
        }
    }

    /// <summary>Updates parameter number <paramref name="index"/> in place.</summary>
    protected abstract void Update(int index, Span<float> value, Span<float> gradient, float decay);

    /// <summary>Allocates one zeroed state buffer per parameter.</summary>
    protected float[][] CreateState() => _parameters.Select(p => new float[p.Length]).ToArray();
}
