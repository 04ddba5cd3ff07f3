using DigitNet.Layers;
using DigitNet.Tensors;

namespace DigitNet.Models;

/// <summary>Builds layers from their <see cref="LayerSpec"/> text form; one entry per layer kind.</summary>
public static class LayerFactory
{
    private delegate Layer Builder(LayerSpec spec, string name, TensorShape input);

    private static readonly Dictionary<string, Builder> Builders = new(StringComparer.Ordinal)
    {
        ["dense"] = (spec, name, input) =>
        {
            spec.CheckAllowed(1, "bias");
            return new Dense(name, input, spec.IntArgument(0), spec.BoolOption("bias", true));
        },
        ["sigmoid"] = (spec, name, input) => { spec.CheckAllowed(0); return new Sigmoid(name, input); },
        ["tanh"] = (spec, name, input) => { spec.CheckAllowed(0); return new Tanh(name, input); },
        ["relu"] = (spec, name, input) => { spec.CheckAllowed(0); return new Relu(name, input); },
        ["dropout"] = (spec, name, input) =>
        {
            spec.CheckAllowed(1);
            double p = spec.DoubleArgument(0);
            if (p < 0 || p >= 1) throw spec.Error($"drop probability {p} must be in [0, 1)");
            return new Dropout(name, input, p);
        },
    };

    /// <summary>The layer kinds this factory knows.</summary>
    public static IEnumerable<string> Kinds => Builders.Keys;

    /// <summary>Creates the layer described by <paramref name="spec"/> for inputs of shape <paramref name="input"/>.</summary>
    public static Layer Create(LayerSpec spec, string name, TensorShape input)
    {
        if (!Builders.TryGetValue(spec.Kind, out var build))
            throw new FormatException($"unknown layer kind '{spec.Kind}'; expected one of {string.Join(", ", Builders.Keys)}");
        return build(spec, name, input);
    }
}
