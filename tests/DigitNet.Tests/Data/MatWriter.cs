using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DigitNet.Data.Formats;

namespace DigitNet.Tests.Data;

/// <summary>
/// A minimal level 5 MAT-file writer for building test files: any storage type and class, either
/// byte order, compressed or bare variables, and raw elements for damaged files.
/// </summary>
/// <remarks>
/// Data of at most 4 bytes goes into small data elements, as MATLAB writes them, unless
/// <see cref="UseSmallElements"/> is false.
/// </remarks>
internal sealed class MatWriter(bool bigEndian = false)
{
    public const string DefaultHeaderText = "MATLAB 5.0 MAT-file, Platform: test, Created by DigitNet tests";

    private readonly List<byte[]> _elements = [];

    public bool BigEndian { get; } = bigEndian;

    public string HeaderText { get; init; } = DefaultHeaderText;

    public ushort Version { get; init; } = 0x0100;

    /// <summary>Byte-order mark written at bytes 126-127; null writes the correct one.</summary>
    public string? EndianMark { get; init; }

    public bool UseSmallElements { get; init; } = true;

    /// <summary>Adds a real numeric variable; <paramref name="values"/> are column-major.</summary>
    public MatWriter Add(
        string name, int[] dimensions, double[] values,
        MatDataType storage = MatDataType.Double, MatClass matClass = MatClass.Double,
        bool compressed = false, bool logical = false)
    {
        byte[] matrix = Matrix(name, dimensions, (int)matClass, logical, complex: false, Element(storage, Encode(values, storage)));
        return AddElement(compressed ? Compress(matrix) : matrix);
    }

    /// <summary>Adds a complex double variable.</summary>
    public MatWriter AddComplex(string name, int[] dimensions, double[] real, double[] imaginary, bool compressed = false)
    {
        byte[] matrix = Matrix(name, dimensions, (int)MatClass.Double, logical: false, complex: true,
            Element(MatDataType.Double, Encode(real, MatDataType.Double)),
            Element(MatDataType.Double, Encode(imaginary, MatDataType.Double)));
        return AddElement(compressed ? Compress(matrix) : matrix);
    }

    /// <summary>
    /// Adds a variable of any class code, with <paramref name="parts"/> after flags, dimensions and
    /// name. Tests use it for cell, struct, char and other kinds that the reader skips.
    /// </summary>
    public MatWriter AddOfClass(string name, int classCode, int[] dimensions, bool compressed, params byte[][] parts)
    {
        byte[] matrix = Matrix(name, dimensions, classCode, logical: false, complex: false, parts);
        return AddElement(compressed ? Compress(matrix) : matrix);
    }

    /// <summary>Adds a ready-made top-level element (tag included).</summary>
    public MatWriter AddElement(byte[] element)
    {
        _elements.Add(element);
        return this;
    }

    public byte[] ToArray()
    {
        var output = new MemoryStream();
        output.Write(Header());
        foreach (var element in _elements)
            output.Write(element);
        return output.ToArray();
    }

    /// <summary>Writes the file into <paramref name="directory"/> and returns its path.</summary>
    public string Save(string directory, string fileName)
    {
        string path = Path.Combine(directory, fileName);
        File.WriteAllBytes(path, ToArray());
        return path;
    }

    public byte[] Header()
    {
        var header = new byte[128];
        header.AsSpan(0, 116).Fill((byte)' ');
        Encoding.ASCII.GetBytes(HeaderText).AsSpan(0, Math.Min(116, HeaderText.Length)).CopyTo(header);
        if (BigEndian)
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(124), Version);
        else
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(124), Version);
        string mark = EndianMark ?? (BigEndian ? "MI" : "IM");
        header[126] = (byte)mark[0];
        header[127] = (byte)mark[1];
        return header;
    }

    /// <summary>Builds an miMATRIX element (tag included) from flags, dimensions, name and <paramref name="parts"/>.</summary>
    public byte[] Matrix(string name, int[] dimensions, int classCode, bool logical, bool complex, params byte[][] parts)
    {
        uint flags = (uint)classCode | (logical ? 0x0200u : 0) | (complex ? 0x0800u : 0);
        var content = new MemoryStream();
        content.Write(Element(MatDataType.UInt32, [.. UInt32Bytes(flags), .. UInt32Bytes(0)]));
        content.Write(Element(MatDataType.Int32, dimensions.SelectMany(d => UInt32Bytes((uint)d)).ToArray()));
        content.Write(Element(MatDataType.Int8, Encoding.ASCII.GetBytes(name)));
        foreach (var part in parts)
            content.Write(part);
        return [.. Tag((uint)MatDataType.Matrix, (uint)content.Length), .. content.ToArray()];
    }

    /// <summary>Builds a data element: tag, data and padding to 8 bytes; small format for at most 4 bytes.</summary>
    public byte[] Element(MatDataType type, byte[] data)
    {
        if (UseSmallElements && data.Length is > 0 and <= 4)
        {
            var small = new byte[8];
            WriteUInt32(small, ((uint)data.Length << 16) | (uint)type);
            data.CopyTo(small, 4);
            return small;
        }

        int padded = (data.Length + 7) / 8 * 8;
        var element = new byte[8 + padded];
        Tag((uint)type, (uint)data.Length).CopyTo(element, 0);
        data.CopyTo(element, 8);
        return element;
    }

    /// <summary>Wraps a whole element (tag included) in an miCOMPRESSED element.</summary>
    public byte[] Compress(byte[] element, CompressionLevel level = CompressionLevel.Optimal)
    {
        byte[] compressed = ZlibCompress(element, level);
        return [.. Tag((uint)MatDataType.Compressed, (uint)compressed.Length), .. compressed];
    }

    public static byte[] ZlibCompress(byte[] data, CompressionLevel level = CompressionLevel.Optimal)
    {
        var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, level))
            zlib.Write(data);
        return output.ToArray();
    }

    public byte[] Tag(uint type, uint size) => [.. UInt32Bytes(type), .. UInt32Bytes(size)];

    public byte[] UInt32Bytes(uint value)
    {
        var bytes = new byte[4];
        WriteUInt32(bytes, value);
        return bytes;
    }

    private void WriteUInt32(Span<byte> target, uint value)
    {
        if (BigEndian)
            BinaryPrimitives.WriteUInt32BigEndian(target, value);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(target, value);
    }

    /// <summary>Encodes values in a storage type; each value must be exactly representable in it.</summary>
    public byte[] Encode(double[] values, MatDataType storage)
    {
        int size = StorageSize(storage);
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            var target = bytes.AsSpan(i * size, size);
            double v = values[i];
            switch (storage)
            {
                case MatDataType.Int8: target[0] = (byte)(sbyte)v; break;
                case MatDataType.UInt8: target[0] = (byte)v; break;
                case MatDataType.Int16: if (BigEndian) BinaryPrimitives.WriteInt16BigEndian(target, (short)v); else BinaryPrimitives.WriteInt16LittleEndian(target, (short)v); break;
                case MatDataType.UInt16: if (BigEndian) BinaryPrimitives.WriteUInt16BigEndian(target, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(target, (ushort)v); break;
                case MatDataType.Int32: if (BigEndian) BinaryPrimitives.WriteInt32BigEndian(target, (int)v); else BinaryPrimitives.WriteInt32LittleEndian(target, (int)v); break;
                case MatDataType.UInt32: if (BigEndian) BinaryPrimitives.WriteUInt32BigEndian(target, (uint)v); else BinaryPrimitives.WriteUInt32LittleEndian(target, (uint)v); break;
                case MatDataType.Single: if (BigEndian) BinaryPrimitives.WriteSingleBigEndian(target, (float)v); else BinaryPrimitives.WriteSingleLittleEndian(target, (float)v); break;
                case MatDataType.Double: if (BigEndian) BinaryPrimitives.WriteDoubleBigEndian(target, v); else BinaryPrimitives.WriteDoubleLittleEndian(target, v); break;
                case MatDataType.Int64: if (BigEndian) BinaryPrimitives.WriteInt64BigEndian(target, (long)v); else BinaryPrimitives.WriteInt64LittleEndian(target, (long)v); break;
                case MatDataType.UInt64: if (BigEndian) BinaryPrimitives.WriteUInt64BigEndian(target, (ulong)v); else BinaryPrimitives.WriteUInt64LittleEndian(target, (ulong)v); break;
                default: throw new ArgumentException($"{storage} is not a numeric storage type");
            }
        }
        return bytes;
    }

    private static int StorageSize(MatDataType storage) => storage switch
    {
        MatDataType.Int8 or MatDataType.UInt8 => 1,
        MatDataType.Int16 or MatDataType.UInt16 => 2,
        MatDataType.Int32 or MatDataType.UInt32 or MatDataType.Single => 4,
        _ => 8,
    };
}
