namespace DigitNet.Data.Formats;

/// <summary>
/// MATLAB array class codes (<c>mxCLASS</c>) as stored in the array flags of a level 5 MAT-file.
/// Logical arrays have class <see cref="UInt8"/> with the logical flag set.
/// </summary>
public enum MatClass
{
    Cell = 1,
    Struct = 2,
    Object = 3,
    Char = 4,
    Sparse = 5,
    Double = 6,
    Single = 7,
    Int8 = 8,
    UInt8 = 9,
    Int16 = 10,
    UInt16 = 11,
    Int32 = 12,
    UInt32 = 13,
    Int64 = 14,
    UInt64 = 15,
}

/// <summary>
/// A real numeric or logical array read from a MAT-file, with its values converted to
/// <see cref="double"/> in MATLAB's column-major order.
/// </summary>
public sealed class MatArray
{
    internal MatArray(string name, MatClass matClass, bool isLogical, int[] dimensions, double[] data)
    {
        Name = name;
        Class = matClass;
        IsLogical = isLogical;
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>Variable name as stored in the file.</summary>
    public string Name { get; }

    /// <summary>MATLAB class of the array; <see cref="MatClass.UInt8"/> for logical arrays.</summary>
    public MatClass Class { get; }

    /// <summary>Whether the array is a MATLAB logical array; its values are then 0 or 1.</summary>
    public bool IsLogical { get; }

    /// <summary>MATLAB's name for the class, such as <c>double</c>, <c>uint8</c> or <c>logical</c>.</summary>
    public string ClassName => IsLogical ? "logical" : ClassNameOf(Class);

    /// <summary>Size of each dimension, at least two of them (a column vector is <c>[n, 1]</c>).</summary>
    public int[] Dimensions { get; }

    /// <summary>
    /// All elements, column-major: element <c>(i, j)</c> of an m-by-n matrix is at <c>j * m + i</c>.
    /// Values of classes int64 and uint64 beyond 2^53 are rounded to the nearest double.
    /// </summary>
    public double[] Data { get; }

    /// <summary>Number of elements, the product of <see cref="Dimensions"/>.</summary>
    public int ElementCount => Data.Length;

    /// <summary>Element <c>(row, col)</c> of a two-dimensional array.</summary>
    /// <exception cref="InvalidOperationException">The array has more than two dimensions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside the array.</exception>
    public double this[int row, int col]
    {
        get
        {
            if (Dimensions.Length != 2)
                throw new InvalidOperationException($"variable '{Name}' has {Dimensions.Length} dimensions ({DimensionsText}); a [row, col] index needs exactly 2");
            int rows = Dimensions[0];
            int cols = Dimensions[1];
            if ((uint)row >= (uint)rows || (uint)col >= (uint)cols)
                throw new ArgumentOutOfRangeException(nameof(row), $"index ({row}, {col}) is outside variable '{Name}' of size {DimensionsText}");
            return Data[col * rows + row];
        }
    }

    /// <summary>The dimensions in MATLAB notation, such as <c>5000x256</c>.</summary>
    public string DimensionsText => FormatDimensions(Dimensions);

    public override string ToString() => $"{Name}: {DimensionsText} {ClassName}";

    internal static string FormatDimensions(int[] dimensions) => string.Join("x", dimensions);

    /// <summary>MATLAB's name for a class code, or <c>class N</c> for a code MATLAB does not define.</summary>
    public static string ClassNameOf(MatClass matClass) => matClass switch
    {
        MatClass.Cell => "cell",
        MatClass.Struct => "struct",
        MatClass.Object => "object",
        MatClass.Char => "char",
        MatClass.Sparse => "sparse",
        MatClass.Double => "double",
        MatClass.Single => "single",
        MatClass.Int8 => "int8",
        MatClass.UInt8 => "uint8",
        MatClass.Int16 => "int16",
        MatClass.UInt16 => "uint16",
        MatClass.Int32 => "int32",
        MatClass.UInt32 => "uint32",
        MatClass.Int64 => "int64",
        MatClass.UInt64 => "uint64",
        _ => $"class {(int)matClass}",
    };
}
