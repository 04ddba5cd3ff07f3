using System.Text;

namespace DigitNet.Tensors;

/// <summary>
/// The dimensions of a tensor, rank 0 to 4, stored inline so that a shape never allocates.
/// Batched tensors put the batch first: <c>[N, features]</c> or <c>[N, C, H, W]</c>.
/// </summary>
public readonly struct TensorShape : IEquatable<TensorShape>
{
    /// <summary>The largest rank a shape can have.</summary>
    public const int MaxRank = 4;

    private readonly int _d0, _d1, _d2, _d3;

    /// <summary>Number of dimensions.</summary>
    public int Rank { get; }

    public TensorShape(int d0) : this(1, d0, 0, 0, 0) { }
    public TensorShape(int d0, int d1) : this(2, d0, d1, 0, 0) { }
    public TensorShape(int d0, int d1, int d2) : this(3, d0, d1, d2, 0) { }
    public TensorShape(int d0, int d1, int d2, int d3) : this(4, d0, d1, d2, d3) { }

    private TensorShape(int rank, int d0, int d1, int d2, int d3)
    {
        Rank = rank;
        _d0 = d0; _d1 = d1; _d2 = d2; _d3 = d3;
        for (int i = 0; i < rank; i++)
        {
            if (this[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(d0), $"shape {this}: dimensions must be non-negative");
        }
    }

    /// <summary>Builds a shape from a list of dimensions (at most <see cref="MaxRank"/>).</summary>
    public static TensorShape FromDimensions(ReadOnlySpan<int> dims) => dims.Length switch
    {
        0 => default,
        1 => new TensorShape(dims[0]),
        2 => new TensorShape(dims[0], dims[1]),
        3 => new TensorShape(dims[0], dims[1], dims[2]),
        4 => new TensorShape(dims[0], dims[1], dims[2], dims[3]),
        _ => throw new ArgumentException($"a tensor shape has at most {MaxRank} dimensions, got {dims.Length}", nameof(dims)),
    };

    /// <summary>The size of dimension <paramref name="axis"/>.</summary>
    public int this[int axis] => axis switch
    {
        0 when Rank > 0 => _d0,
        1 when Rank > 1 => _d1,
        2 when Rank > 2 => _d2,
        3 when Rank > 3 => _d3,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is outside a rank-{Rank} shape"),
    };

    /// <summary>Total number of elements (1 for a rank-0 shape).</summary>
    public int Size
    {
        get
        {
            long size = 1;
            for (int i = 0; i < Rank; i++) size *= this[i];
            return checked((int)size);
        }
    }

    /// <summary>The shape without its first (batch) dimension: <c>[N, C, H, W]</c> becomes <c>[C, H, W]</c>.</summary>
    public TensorShape SampleShape => Rank switch
    {
        1 => default,
        2 => new TensorShape(_d1),
        3 => new TensorShape(_d1, _d2),
        4 => new TensorShape(_d1, _d2, _d3),
        _ => throw new InvalidOperationException("a rank-0 shape has no batch dimension"),
    };

    /// <summary>The shape with a batch dimension of <paramref name="batch"/> put in front.</summary>
    public TensorShape WithBatch(int batch) => Rank switch
    {
        0 => new TensorShape(batch),
        1 => new TensorShape(batch, _d0),
        2 => new TensorShape(batch, _d0, _d1),
        3 => new TensorShape(batch, _d0, _d1, _d2),
        _ => throw new InvalidOperationException($"shape {this} already has rank {MaxRank}"),
    };

    /// <summary>The dimensions as a new array (for serialization and messages).</summary>
    public int[] ToArray()
    {
        var dims = new int[Rank];
        for (int i = 0; i < Rank; i++) dims[i] = this[i];
        return dims;
    }

    public bool Equals(TensorShape other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++)
            if (this[i] != other[i]) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is TensorShape other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(Rank, _d0, _d1, _d2, _d3);
    public static bool operator ==(TensorShape a, TensorShape b) => a.Equals(b);
    public static bool operator !=(TensorShape a, TensorShape b) => !a.Equals(b);

    /// <summary>Formats the shape as <c>[64, 1, 16, 16]</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("[");
        for (int i = 0; i < Rank; i++)
        {
            if (i > 0) text.Append(", ");
            text.Append(this[i]);
        }
        return text.Append(']').ToString();
    }
}
