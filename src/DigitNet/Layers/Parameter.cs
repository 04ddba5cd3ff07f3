using DigitNet.Tensors;

namespace DigitNet.Layers;

/// <summary>
/// A named trainable tensor and its gradient, such as <c>dense1.weight</c>. The name is shared by
/// optimisers, freezing and model files. After a <see cref="Models.Network"/> is built, the value and
/// gradient of every parameter are slices of one contiguous buffer each.
/// </summary>
public sealed class Parameter
{
    private float[] _values;
    private float[] _gradients;
    private int _offset;

    /// <summary>Creates a zero-filled parameter with its own storage.</summary>
    public Parameter(string name, TensorShape shape, ParameterKind kind)
    {
        Name = name;
        Shape = shape;
        Kind = kind;
        Length = shape.Size;
        _values = new float[Length];
        _gradients = new float[Length];
    }

    /// <summary>Unique name: the layer name, a dot, and the role (<c>conv1.bias</c>).</summary>
    public string Name { get; }

    /// <summary>Shape, for example <c>[out, in]</c> for a dense weight.</summary>
    public TensorShape Shape { get; }

    /// <summary>What the parameter is for; weight decay applies only to <see cref="ParameterKind.Weight"/>.</summary>
    public ParameterKind Kind { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>When true, optimisers leave the value unchanged (used for fine-tuning).</summary>
    public bool Frozen { get; set; }

    /// <summary>The current value, row-major.</summary>
    public Span<float> Value => _values.AsSpan(_offset, Length);

    /// <summary>The gradient of the loss with respect to the value, written by the last backward pass.</summary>
    public Span<float> Gradient => _gradients.AsSpan(_offset, Length);

    /// <summary>Moves the value into a slice of shared storage, keeping its contents; gradients start at zero.</summary>
    internal void Bind(float[] values, float[] gradients, int offset)
    {
        Value.CopyTo(values.AsSpan(offset, Length));
        _values = values;
        _gradients = gradients;
        _offset = offset;
    }

    public override string ToString() => $"{Name}{Shape}";
}

/// <summary>The role of a parameter inside its layer.</summary>
public enum ParameterKind
{
    /// <summary>A weight matrix or convolution kernel; subject to weight decay.</summary>
    Weight,
    /// <summary>An additive bias; not decayed.</summary>
    Bias,
    /// <summary>A normalisation scale (gamma); not decayed.</summary>
    Scale,
    /// <summary>A normalisation shift (beta); not decayed.</summary>
    Shift,
    /// <summary>
    /// A statistic updated by the forward pass, such as a running mean; saved and restored with the
    /// model but never changed by optimisers.
    /// </summary>
    Statistic,
}
