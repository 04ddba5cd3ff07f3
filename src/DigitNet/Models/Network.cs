using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Tensors;

namespace DigitNet.Models;

/// <summary>
/// A sequential network built from an <see cref="Architecture"/>. All parameter values live in one
/// contiguous array (<see cref="ParameterValues"/>) and all gradients in another, with one named
/// slice per <see cref="Parameter"/>, so optimisers, freezing and model files share one list.
/// </summary>
public sealed class Network
{
    private readonly Layer[] _layers;
    private readonly Parameter[] _parameters;
    private WorkerPool? _workers;

    public Network(Architecture architecture)
    {
        Architecture = architecture;
        InputShape = architecture.InputShape;

        var layers = new List<Layer>();
        var kindCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var shape = architecture.InputShape;
        foreach (var spec in architecture.Layers)
        {
            int index = kindCounts.GetValueOrDefault(spec.Kind) + 1;
            kindCounts[spec.Kind] = index;
            var layer = LayerFactory.Create(spec, $"{spec.Kind}{index}", shape);
            layers.Add(layer);
            shape = layer.OutputShape;
        }
        if (layers.Count == 0)
            throw new ArgumentException("a network needs at least one layer");
        if (shape.Rank != 1)
            throw new ArgumentException($"the last layer must output a vector of class scores, got shape {shape}; end with a dense layer");

        _layers = layers.ToArray();
        _layers[0].ComputesInputGradient = false;
        OutputShape = shape;

        _parameters = _layers.SelectMany(layer => layer.Parameters).ToArray();
        int total = _parameters.Sum(p => p.Length);
        ParameterValues = new float[total];
        ParameterGradients = new float[total];
        int offset = 0;
        foreach (var parameter in _parameters)
        {
            parameter.Bind(ParameterValues, ParameterGradients, offset);
            offset += parameter.Length;
        }
    }

    /// <summary>The description the network was built from.</summary>
    public Architecture Architecture { get; }

    /// <summary>Shape of one input sample, <c>[C, H, W]</c>.</summary>
    public TensorShape InputShape { get; }

    /// <summary>Shape of one output sample, <c>[K]</c>.</summary>
    public TensorShape OutputShape { get; }

    /// <summary>Number of classes the network scores.</summary>
    public int ClassCount => OutputShape[0];

    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>Every parameter in layer order.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>All parameter values, concatenated in the order of <see cref="Parameters"/>.</summary>
    public float[] ParameterValues { get; }

    /// <summary>All parameter gradients, in the same layout as <see cref="ParameterValues"/>.</summary>
    public float[] ParameterGradients { get; }

    /// <summary>Threads used by the layers' kernels; null runs everything on the calling thread.</summary>
    public WorkerPool? Workers
    {
        get => _workers;
        set
        {
            _workers = value;
            foreach (var layer in _layers) layer.Workers = value;
        }
    }

    /// <summary>Finds a parameter by name, or returns null.</summary>
    public Parameter? FindParameter(string name) => Array.Find(_parameters, p => p.Name == name);

    /// <summary>Initialises every layer's parameters from one generator, in layer order.</summary>
    public void Initialize(WeightInit init, RandomSource random)
    {
        foreach (var layer in _layers) layer.Initialize(init, random);
    }

    /// <summary>Gives every dropout layer the generator for its masks.</summary>
    public void SetDropoutRandom(RandomSource random)
    {
        foreach (var layer in _layers)
        {
            if (layer is Dropout dropout) dropout.Random = random;
        }
    }

    /// <summary>Runs the batch <c>x</c> (<c>[N, ..InputShape]</c>) through every layer; returns <c>[N, K]</c>.</summary>
    public Tensor Forward(Tensor x, bool training)
    {
        var y = x;
        foreach (var layer in _layers) y = layer.Forward(y, training);
        return y;
    }

    /// <summary>Backpropagates <c>dL/dy</c> of the last forward call, overwriting every parameter gradient.</summary>
    public void Backward(Tensor dy)
    {
        Tensor? gradient = dy;
        for (int i = _layers.Length - 1; i >= 0 && gradient is not null; i--)
            gradient = _layers[i].Backward(gradient);
    }

    /// <summary>Copies the parameter values (for restoring the best epoch later).</summary>
    public float[] SnapshotParameters() => (float[])ParameterValues.Clone();

    /// <summary>Overwrites the parameter values with a snapshot taken from this network.</summary>
    public void RestoreParameters(ReadOnlySpan<float> snapshot)
    {
        if (snapshot.Length != ParameterValues.Length)
            throw new ArgumentException($"snapshot has {snapshot.Length} values, the network has {ParameterValues.Length}");
        snapshot.CopyTo(ParameterValues);
    }

    /// <summary>One line per layer with its output shape and parameter count.</summary>
    public string Summary()
    {
        var lines = _layers.Select(layer =>
            $"{layer.Name,-10} {layer.Describe(),-28} -> {layer.OutputShape,-14} {layer.Parameters.Sum(p => p.Length),9:N0} parameters");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine + $"total {ParameterValues.Length:N0} parameters";
    }
}
