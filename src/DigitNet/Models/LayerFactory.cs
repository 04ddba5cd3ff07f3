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
        ["conv"] = (spec, name, input) =>
        {
            spec.CheckAllowed(2, "stride", "pad", "bias");
            var (kernelHeight, kernelWidth) = KernelSize(spec, 1);
            int outChannels = spec.IntArgument(0), stride = spec.IntOption("stride", 1, minimum: 1), pad = spec.IntOption("pad", 0);
            bool bias = spec.BoolOption("bias", true);
            return Checked(spec, () => new Conv2D(name, input, outChannels, kernelHeight, kernelWidth, stride, pad, bias));
        },
        ["maxpool"] = (spec, name, input) =>
        {
            spec.CheckAllowed(1, "stride", "pad");
            int size = spec.IntArgument(0), stride = spec.IntOption("stride", size, minimum: 1), pad = spec.IntOption("pad", 0);
            return Checked(spec, () => new MaxPool2D(name, input, size, stride, pad));
        },
        ["avgpool"] = (spec, name, input) =>
        {
            spec.CheckAllowed(1, "stride", "pad");
            int size = spec.IntArgument(0), stride = spec.IntOption("stride", size, minimum: 1), pad = spec.IntOption("pad", 0);
            return Checked(spec, () => new AvgPool2D(name, input, size, stride, pad));
        },
        ["flatten"] = (spec, name, input) => { spec.CheckAllowed(0); return new Flatten(name, input); },
        ["batchnorm"] = (spec, name, input) => { spec.CheckAllowed(0); return Checked(spec, () => new BatchNorm(name, input)); },
        ["gap"] = (spec, name, input) => { spec.CheckAllowed(0); return Checked(spec, () => new GlobalAveragePool(name, input)); },
    };

    /// <summary>Reads a kernel size argument, <c>K</c> or <c>KHxKW</c> (such as <c>5x5</c> or <c>3x5</c>).</summary>
    private static (int Height, int Width) KernelSize(LayerSpec spec, int index)
    {
        if (index >= spec.Arguments.Count)
            throw spec.Error($"needs argument {index + 1}, the kernel size (such as 3x3)");
        string text = spec.Arguments[index];
        string[] parts = text.Split('x');
        if (parts.Length is 1 or 2
            && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int height)
            && int.TryParse(parts[^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int width)
            && height > 0 && width > 0)
        {
            return (height, width);
        }
        throw spec.Error($"kernel size '{text}' must be K or KxK with positive integers, such as 3x3 or 5");
    }

    /// <summary>Builds a layer, turning a shape error into a <see cref="FormatException"/> that names the layer text.</summary>
    private static Layer Checked(LayerSpec spec, Func<Layer> build)
    {
        try
        {
            return build();
        }
        catch (ArgumentException e)
        {
            throw spec.Error(e.Message);
        }
    }

    /// <summary>The layer kinds this factory can build.</summary>
    public static IEnumerable<string> Kinds => Builders.Keys;

    /// <summary>Creates the layer described by <paramref name="spec"/> for inputs of shape <paramref name="input"/>.</summary>
    /// <exception cref="FormatException">The kind is unknown, an argument or option is invalid, or a tensor of the layer would be too large.</exception>
    public static Layer Create(LayerSpec spec, string name, TensorShape input)
    {
        if (!Builders.TryGetValue(spec.Kind, out var build))
            throw new FormatException($"unknown layer kind '{spec.Kind}'; expected one of {string.Join(", ", Builders.Keys)}");
        try
        {
            return build(spec, name, input);
        }
        catch (OverflowException)
        {
            // TensorShape.Size raises this when a weight or output of the layer would have more
            // than int.MaxValue values, more than any float array can hold.
            throw spec.Error($"a tensor of this layer would have more than {int.MaxValue} values; use fewer units or channels");
        }
    }
}
