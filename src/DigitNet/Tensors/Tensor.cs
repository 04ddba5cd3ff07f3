namespace DigitNet.Tensors;

/// <summary>
/// A dense row-major float32 tensor. The backing array may be larger than the shape needs, so a
/// buffer sized for the largest batch can be reshaped for a smaller one without allocating.
/// </summary>
public sealed class Tensor
{
    private float[] _data;

    /// <summary>Creates a zero-filled tensor of the given shape.</summary>
    public Tensor(TensorShape shape)
    {
        _data = new float[shape.Size];
        Shape = shape;
    }

    /// <summary>Wraps existing data; <paramref name="data"/> must hold at least <c>shape.Size</c> elements.</summary>
    public Tensor(TensorShape shape, float[] data)
    {
        if (data.Length < shape.Size)
            throw new ArgumentException($"tensor of shape {shape} needs {shape.Size} elements, the array has {data.Length}", nameof(data));
        _data = data;
        Shape = shape;
    }

    /// <summary>The current shape.</summary>
    public TensorShape Shape { get; private set; }

    /// <summary>Number of elements in the current shape.</summary>
    public int Size => Shape.Size;

    /// <summary>The elements of the current shape, row-major.</summary>
    public Span<float> Span => _data.AsSpan(0, Shape.Size);

    /// <summary>The backing array; its length is the capacity, which may exceed <see cref="Size"/>.</summary>
    public float[] Data => _data;

    /// <summary>The elements of sample <paramref name="index"/> along the first dimension.</summary>
    public Span<float> Sample(int index)
    {
        int stride = Shape.SampleShape.Size;
        return _data.AsSpan(index * stride, stride);
    }

    /// <summary>
    /// Changes the shape in place, growing the backing array only when the new shape needs more
    /// elements than it holds. Contents are kept only up to the old size.
    /// </summary>
    public void Reshape(TensorShape shape)
    {
        if (shape.Size > _data.Length)
            Array.Resize(ref _data, shape.Size);
        Shape = shape;
    }

    /// <summary>Sets every element of the current shape to zero.</summary>
    public void Clear() => Span.Clear();

    public override string ToString() => $"Tensor{Shape}";
}
