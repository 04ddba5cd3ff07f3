using System.Globalization;
using DigitNet.Tensors;

namespace DigitNet.Models;

/// <summary>
/// A network described as data: the shape of one input sample and the list of layers. It is what
/// the command line, configuration files and model files store, and <see cref="Network"/> builds from.
/// </summary>
public sealed record Architecture(TensorShape InputShape, IReadOnlyList<LayerSpec> Layers)
{
    /// <summary>
    /// Parses a comma-separated layer list such as <c>"dense 180, sigmoid, dense 10"</c>.
    /// </summary>
    public static Architecture Parse(TensorShape inputShape, string layers) =>
        new(inputShape, layers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(LayerSpec.Parse).ToList());

    /// <summary>
    /// A multilayer perceptron: for each hidden size a dense layer, the activation and (when
    /// <paramref name="dropout"/> &gt; 0) a dropout layer, then a dense output layer of
    /// <paramref name="classes"/> units followed by <paramref name="outputActivation"/> if given.
    /// </summary>
    public static Architecture Mlp(
        TensorShape inputShape, IReadOnlyList<int> hidden, string activation, int classes,
        string? outputActivation, double dropout = 0, bool bias = true)
    {
        var layers = new List<LayerSpec>();
        string biasOption = bias ? "" : " bias=false";
        foreach (int units in hidden)
        {
            layers.Add(LayerSpec.Parse($"dense {units}{biasOption}"));
            layers.Add(LayerSpec.Parse(activation));
            if (dropout > 0)
                layers.Add(LayerSpec.Parse($"dropout {dropout.ToString("R", CultureInfo.InvariantCulture)}"));
        }
        layers.Add(LayerSpec.Parse($"dense {classes}{biasOption}"));
        if (outputActivation is not null) layers.Add(LayerSpec.Parse(outputActivation));
        return new Architecture(inputShape, layers);
    }

    /// <summary>The layer list in the text form <see cref="Parse"/> reads.</summary>
    public string LayersText => string.Join(", ", Layers);

    public override string ToString() => $"input {InputShape}: {LayersText}";
}
