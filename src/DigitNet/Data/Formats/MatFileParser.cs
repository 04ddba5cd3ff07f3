using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DigitNet.Data.Formats;

/// <summary>Storage types of MAT-file data elements (<c>miTYPE</c>).</summary>
internal enum MatDataType
{
    Int8 = 1,
    UInt8 = 2,
    Int16 = 3,
    UInt16 = 4,
    Int32 = 5,
    UInt32 = 6,
    Single = 7,
    Double = 9,
    Int64 = 12,
    UInt64 = 13,
    Matrix = 14,
    Compressed = 15,
    Utf8 = 16,
    Utf16 = 17,
    Utf32 = 18,
}

/// <summary>
/// Parses the bytes of a level 5 MAT-file. Every declared length is checked against the bytes
/// that remain before anything is allocated from it. A damaged header therefore produces a
/// <see cref="DataFormatException"/>, not an allocation sized by the bad value or an index error.
/// </summary>
/// <remarks>
/// Layout: a 128-byte header (116 bytes of text, 8 bytes of subsystem offset, a 2-byte version
/// 0x0100 and the byte-order mark "IM" or "MI"), then one data element per variable. Each element
/// has an 8-byte tag: uint32 type, then uint32 byte count. Data of at most 4 bytes may instead use
/// a small element, whose first 4 bytes carry the uint16 byte count in the high half and the
/// uint16 type in the low half, and whose next 4 bytes carry the data. Element data is padded to
/// a multiple of 8 bytes, but miCOMPRESSED data is not. A variable is an miMATRIX element, bare or
/// zlib-compressed inside an miCOMPRESSED element. Its sub-elements are the array flags, the
/// dimensions, the name, the real part and, for complex arrays, the imaginary part.
/// </remarks>
internal sealed class MatFileParser
{
    private const int HeaderLength = 128;
    private const int HeaderTextLength = 116;
    private const ushort Level5Version = 0x0100;
    private const ushort HdfVersion = 0x0200;

    private const uint ComplexFlag = 0x0800;
    private const uint LogicalFlag = 0x0200;

    private static ReadOnlySpan<byte> HdfSignature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string _file;
    private readonly bool _bigEndian;

    private MatFileParser(string file, bool bigEndian)
    {
        _file = file;
        _bigEndian = bigEndian;
    }

    /// <summary>Parses a whole MAT-file held in <paramref name="bytes"/>; <paramref name="file"/> names it in messages.</summary>
    public static MatFile Parse(byte[] bytes, string file)
    {
        var (bigEndian, headerText) = ParseHeader(bytes, file);
        var parser = new MatFileParser(file, bigEndian);

        var arrays = new List<MatArray>();
        var unsupported = new List<MatUnsupportedVariable>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int position = HeaderLength;
        int ordinal = 0;

        while (position < bytes.Length)
        {
            int remaining = bytes.Length - position;
            if (remaining < 8)
            {
                // Some writers pad the last element to 8 bytes with zeros.
                if (bytes.AsSpan(position).IndexOfAnyExcept((byte)0) < 0)
                    break;
                throw new DataFormatException(
                    $"{file}: truncated file: it ends with {remaining} bytes at byte {position}, too few for a data element tag; " +
                    "the file is incomplete, copy or save it again");
            }

            ordinal++;
            object variable = parser.ParseTopLevelElement(bytes, position, ordinal, out int next);
            position = next;

            string name = variable is MatArray array ? array.Name : ((MatUnsupportedVariable)variable).Name;
            if (!names.Add(name))
            {
                throw new DataFormatException(
                    $"{file}: variable '{name}' appears twice (again at variable #{ordinal}); the file is damaged, save it again");
            }
            if (variable is MatArray a)
                arrays.Add(a);
            else
                unsupported.Add((MatUnsupportedVariable)variable);
        }

        return new MatFile(file, headerText, bigEndian, arrays.ToArray(), unsupported.ToArray());
    }

    /// <summary>
    /// Whether <paramref name="bytes"/> start with a plausible version 4 matrix header: a type code
    /// MOPT (M machine format 0 to 4, O 0, P precision 0 to 5, T matrix type 0 to 2), non-negative
    /// dimensions, an imaginary flag of 0 or 1 and a name length whose last name byte is zero.
    /// </summary>
    private static bool LooksLikeVersion4(byte[] bytes, bool bigEndian)
    {
        const int HeaderInts = 5;
        if (bytes.Length < HeaderInts * 4)
            return false;
        int Read(int index) => bigEndian
            ? BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(index * 4))
            : BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(index * 4));

        int type = Read(0), rows = Read(1), columns = Read(2), imaginary = Read(3), nameLength = Read(4);
        bool typeValid = type is >= 0 and < 5000 && type / 100 % 10 == 0 && type / 10 % 10 <= 5 && type % 10 <= 2;
        long nameEnd = HeaderInts * 4L + nameLength;
        return typeValid && rows >= 0 && columns >= 0 && imaginary is 0 or 1
            && nameLength > 0 && nameEnd <= bytes.Length && bytes[nameEnd - 1] == 0;
    }

    /// <summary>Checks the 128-byte header and returns the byte order and the descriptive text.</summary>
    private static (bool BigEndian, string Text) ParseHeader(byte[] bytes, string file)
    {
        if (bytes.AsSpan().StartsWith(HdfSignature))
        {
            throw new DataFormatException(
                $"{file}: this is an HDF5 file (MAT-file version 7.3), which is not supported; " +
                "in MATLAB load it and save it again with save(..., '-v7') or '-v6'");
        }

        var start = bytes.AsSpan(0, Math.Min(bytes.Length, FileSignature.Length));
        if (FileSignature.Detect(start, bytes.Length) is { } format && format != FileFormat.Mat)
            throw new DataFormatException($"{file}: this is {FileSignature.Describe(format)}, not a MAT-file data set; check which file is the data");

        bool startsLikeMat = bytes.AsSpan().StartsWith("MATLAB"u8);
        if (bytes.Length < HeaderLength)
        {
            if (startsLikeMat)
            {
                throw new DataFormatException(
                    $"{file}: truncated file: the MAT-file header needs {HeaderLength} bytes, the file has {bytes.Length}; " +
                    "the file is incomplete, copy or save it again");
            }
            throw new DataFormatException(
                $"{file}: not a MAT-file: it has {bytes.Length} bytes, fewer than the {HeaderLength}-byte MAT-file header; check the path");
        }

        // A level 5 header starts with text, so its first 4 bytes are non-zero. A version 4 file
        // starts with a matrix header of five int32 values, which has a zero byte in either byte order.
        if (!startsLikeMat && bytes.AsSpan(0, 4).IndexOf((byte)0) >= 0)
        {
            if (LooksLikeVersion4(bytes, bigEndian: false) || LooksLikeVersion4(bytes, bigEndian: true))
            {
                throw new DataFormatException(
                    $"{file}: this looks like a MAT-file version 4, which is not supported; " +
                    "in MATLAB load it and save it again with save(..., '-v7') or '-v6'");
            }
            throw new DataFormatException(
                $"{file}: not a MAT-file: it starts with neither the text of a MAT-file header nor a version 4 matrix header; " +
                "check that the path points at a MATLAB .mat file saved with -v7 or -v6");
        }

        bool bigEndian;
        if (bytes[126] == 'I' && bytes[127] == 'M')
            bigEndian = false;
        else if (bytes[126] == 'M' && bytes[127] == 'I')
            bigEndian = true;
        else
        {
            throw new DataFormatException(
                $"{file}: not a MAT-file: bytes 126-127 of the header are not the byte-order mark 'IM' or 'MI'; " +
                "check that the path points at a MATLAB .mat file saved with -v7 or -v6");
        }

        ushort version = bigEndian
            ? BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(124))
            : BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(124));
        if (version == HdfVersion)
        {
            throw new DataFormatException(
                $"{file}: MAT-file version 7.3 (HDF5) is not supported; " +
                "in MATLAB load it and save it again with save(..., '-v7') or '-v6'");
        }
        if (version != Level5Version)
        {
            throw new DataFormatException(
                $"{file}: unsupported MAT-file header version 0x{version:X4} (expected 0x0100, level 5); " +
                "save the file again with save(..., '-v7') or '-v6'");
        }

        string text = Encoding.Latin1.GetString(bytes, 0, HeaderTextLength).TrimEnd(' ', '\0');
        return (bigEndian, text);
    }

    /// <summary>
    /// Parses the variable whose element starts at <paramref name="position"/> and returns a
    /// <see cref="MatArray"/> or a <see cref="MatUnsupportedVariable"/>. <paramref name="next"/>
    /// is the position of the element after it.
    /// </summary>
    private object ParseTopLevelElement(byte[] bytes, int position, int ordinal, out int next)
    {
        string where = $"variable #{ordinal} at byte {position}";
        uint typeWord = ReadUInt32(bytes.AsSpan(position));
        uint size = ReadUInt32(bytes.AsSpan(position + 4));
        int dataStart = position + 8;
        int available = bytes.Length - dataStart;

        if (typeWord >> 16 != 0 || (typeWord != (uint)MatDataType.Matrix && typeWord != (uint)MatDataType.Compressed))
        {
            throw new DataFormatException(
                $"{_file}: {where} has element type {typeWord & 0xFFFF}, but a variable must be miMATRIX (14) or miCOMPRESSED (15); " +
                "the file is damaged or not a level 5 MAT-file");
        }

        if (size > available)
        {
            string? name = TryPeekName(bytes, dataStart, available, typeWord == (uint)MatDataType.Compressed);
            string subject = WithName(where, name);
            throw new DataFormatException(
                $"{_file}: truncated file: {subject} declares {size} bytes but only {available} remain; " +
                "the file is incomplete, copy or save it again");
        }

        int length = (int)size;
        if (typeWord == (uint)MatDataType.Compressed)
        {
            next = dataStart + length;
            byte[] matrix = Inflate(bytes, dataStart, length, where, out int matrixLength);
            return ParseMatrix(matrix, 0, matrixLength, where);
        }

        next = dataStart + length + Math.Min(Padding(length), bytes.Length - dataStart - length);
        return ParseMatrix(bytes, dataStart, length, where);
    }

    /// <summary>
    /// Inflates the zlib stream of an miCOMPRESSED element and returns the data of the miMATRIX
    /// element inside it (without its tag) in a buffer of which the first <paramref name="length"/> bytes are used.
    /// </summary>
    private byte[] Inflate(byte[] bytes, int start, int compressedLength, string where, out int length)
    {
        using var input = new MemoryStream(bytes, start, compressedLength, writable: false);
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        var tag = new GrowingBuffer();
        var data = new GrowingBuffer();

        try
        {
            if (!tag.FillFrom(zlib, 8))
            {
                throw new DataFormatException(
                    $"{_file}: truncated compressed data: {where} inflates to {tag.Length} bytes, too few for a data element tag; " +
                    "the file is damaged, copy or save it again");
            }

            uint type = ReadUInt32(tag.Buffer);
            uint size = ReadUInt32(tag.Buffer.AsSpan(4));
            if (type != (uint)MatDataType.Matrix)
            {
                throw new DataFormatException(
                    $"{_file}: {where} is compressed but contains element type {type}, not miMATRIX (14); the file is damaged");
            }

            long maxSize = compressedLength * DataFile.MaxDeflateRatio;
            if (size > maxSize || size > Array.MaxLength)
            {
                throw new DataFormatException(
                    $"{_file}: {where} declares {size} bytes after decompression, more than {compressedLength} compressed bytes can hold; " +
                    "the file is damaged");
            }

            if (!data.FillFrom(zlib, (int)size))
            {
                string subject = Describe(bytes, start, compressedLength, where);
                throw new DataFormatException(
                    $"{_file}: truncated compressed data: {subject} declares {size} bytes but its zlib stream ends after {data.Length} bytes; " +
                    "the file is incomplete or damaged, copy or save it again");
            }

            // Reading to the end of the zlib stream makes the inflater verify its Adler-32
            // checksum, which catches damage that still decodes as valid deflate data. Up to 7
            // extra bytes pass as padding to a multiple of 8.
            int extra = CountRemainingBytes(zlib, limit: 8);
            if (extra >= 8)
            {
                string subject = Describe(bytes, start, compressedLength, where);
                throw new DataFormatException(
                    $"{_file}: {subject} inflates to more than the {size} bytes its miMATRIX tag declares; the file is damaged");
            }
        }
        catch (InvalidDataException e)
        {
            string subject = Describe(bytes, start, compressedLength, where);
            throw new DataFormatException(
                $"{_file}: corrupt compressed data in {subject} ({e.Message}); the file is damaged, copy or save it again", e);
        }

        length = data.Length;
        return data.Buffer;
    }

    /// <summary>Reads <paramref name="stream"/> to its end and returns how many bytes it had, stopping early at <paramref name="limit"/>.</summary>
    private static int CountRemainingBytes(Stream stream, int limit)
    {
        Span<byte> scratch = stackalloc byte[16];
        int count = 0;
        while (count < limit)
        {
            int read = stream.Read(scratch);
            if (read == 0)
                break;
            count += read;
        }
        return count;
    }

    /// <summary>Names the variable of a compressed element in a message, by name when the name can be inflated.</summary>
    private string Describe(byte[] bytes, int start, int compressedLength, string where)
    {
        return WithName(where, TryPeekName(bytes, start, compressedLength, compressed: true));
    }

    /// <summary>Turns "variable #3 at byte 900" into "variable 'X' (#3 at byte 900)" when the name is known.</summary>
    private static string WithName(string where, string? name) =>
        name is null ? where : $"variable '{name}' ({where["variable ".Length..]})";

    /// <summary>
    /// Returns the variable name from the start of a possibly incomplete miMATRIX, or null when
    /// the bytes do not reach it. A compressed element is inflated as far as its bytes allow.
    /// Used only to improve error messages.
    /// </summary>
    private string? TryPeekName(byte[] bytes, int start, int length, bool compressed)
    {
        if (compressed)
        {
            // The name sits within the first few hundred bytes of the inflated element. Reading
            // in small steps keeps the bytes inflated before a failure, because the read that
            // fails (for example on a bad checksum) returns nothing.
            var inflated = new MemoryStream();
            try
            {
                using var input = new MemoryStream(bytes, start, length, writable: false);
                using var zlib = new ZLibStream(input, CompressionMode.Decompress);
                Span<byte> step = stackalloc byte[16];
                int read;
                while (inflated.Length < 1024 && (read = zlib.Read(step)) > 0)
                    inflated.Write(step[..read]);
            }
            catch (InvalidDataException)
            {
                // Keep what was inflated before the damage.
            }
            byte[] head = inflated.ToArray();
            return head.Length < 8 ? null : TryPeekName(head, 8, head.Length - 8, compressed: false);
        }

        try
        {
            var reader = new ElementReader(this, bytes, start, length, "");
            reader.Next("array flags");
            reader.Next("dimensions");
            var name = reader.Next("array name");
            return DecodeName(name.Data);
        }
        catch (DataFormatException)
        {
            return null;
        }
    }

    /// <summary>Parses the sub-elements of one miMATRIX stored in <paramref name="bytes"/>[start..start+length].</summary>
    private object ParseMatrix(byte[] bytes, int start, int length, string where)
    {
        if (length == 0)
            throw new DataFormatException($"{_file}: {where} is an empty matrix element with no name or data; the file is damaged");

        var reader = new ElementReader(this, bytes, start, length, where);

        var flagsElement = reader.Next("array flags");
        if (flagsElement.Type != MatDataType.UInt32 || flagsElement.Data.Length != 8)
        {
            throw new DataFormatException(
                $"{_file}: {where}: the array flags must be 8 bytes of miUINT32, found {flagsElement.Data.Length} bytes of type {(int)flagsElement.Type}; the file is damaged");
        }
        uint flags = ReadUInt32(flagsElement.Data);
        var matClass = (MatClass)(flags & 0xFF);
        bool isComplex = (flags & ComplexFlag) != 0;
        bool isLogical = (flags & LogicalFlag) != 0;

        int[] dimensions = ReadDimensions(reader.Next("dimensions"), where);

        var nameElement = reader.Next("array name");
        if (nameElement.Type is not (MatDataType.Int8 or MatDataType.UInt8 or MatDataType.Utf8))
        {
            throw new DataFormatException(
                $"{_file}: {where}: the array name must be miINT8 text, found type {(int)nameElement.Type}; the file is damaged");
        }
        string name = DecodeName(nameElement.Data);
        string variable = $"variable '{name}'";
        reader.Subject = variable;

        string? unsupportedKind = DescribeUnsupported(matClass, isComplex);
        if (unsupportedKind is not null)
            return new MatUnsupportedVariable(name, unsupportedKind);

        long count = ElementCount(dimensions);

        if (!reader.HasMore)
        {
            if (count == 0)
                return new MatArray(name, matClass, isLogical, dimensions, []);
            throw new DataFormatException(
                $"{_file}: {variable} of size {MatArray.FormatDimensions(dimensions)} has no data element; the file is damaged");
        }

        var real = reader.Next($"data of {variable}");
        int elementSize = StorageSize(real.Type);
        if (elementSize == 0)
        {
            throw new DataFormatException(
                $"{_file}: {variable} stores its data as element type {(int)real.Type}, which is not a numeric type; the file is damaged");
        }
        if (count > real.Data.Length / elementSize || real.Data.Length != count * elementSize)
        {
            throw new DataFormatException(
                $"{_file}: {variable} is {MatArray.FormatDimensions(dimensions)} ({count} elements) but its data has {real.Data.Length} bytes " +
                $"of mi{real.Type.ToString().ToUpperInvariant()} ({elementSize} bytes each, so {real.Data.Length / elementSize} elements); the file is damaged");
        }

        var data = new double[count];
        DecodeStorage(real.Data, real.Type, data);
        ConvertToClass(data, matClass, isLogical, variable);
        return new MatArray(name, matClass, isLogical, dimensions, data);
    }

    /// <summary>Returns the product of the dimensions, saturated at <see cref="long.MaxValue"/>.</summary>
    private static long ElementCount(int[] dimensions)
    {
        long count = 1;
        foreach (int dimension in dimensions)
        {
            if (dimension == 0)
                return 0;
            count = count > long.MaxValue / dimension ? long.MaxValue : count * dimension;
        }
        return count;
    }

    private int[] ReadDimensions(Element element, string where)
    {
        if (element.Type != MatDataType.Int32 || element.Data.Length % 4 != 0 || element.Data.Length < 8)
        {
            throw new DataFormatException(
                $"{_file}: {where}: the dimensions must be at least two miINT32 values, found {element.Data.Length} bytes of type {(int)element.Type}; the file is damaged");
        }

        var dimensions = new int[element.Data.Length / 4];
        for (int i = 0; i < dimensions.Length; i++)
        {
            dimensions[i] = ReadInt32(element.Data.Slice(4 * i));
            if (dimensions[i] < 0)
            {
                throw new DataFormatException(
                    $"{_file}: {where}: dimension {i + 1} is {dimensions[i]}, but sizes cannot be negative; the file is damaged");
            }
        }
        return dimensions;
    }

    private static string? DescribeUnsupported(MatClass matClass, bool isComplex) => matClass switch
    {
        MatClass.Cell => "a cell array",
        MatClass.Struct => "a struct array",
        MatClass.Object => "an object",
        MatClass.Char => "a char array",
        MatClass.Sparse => "a sparse array",
        >= MatClass.Double and <= MatClass.UInt64 when isComplex => $"a complex {MatArray.ClassNameOf(matClass)} array",
        >= MatClass.Double and <= MatClass.UInt64 => null,
        _ => $"an array of class {(int)matClass} (function handle, opaque or unknown)",
    };

    private static string DecodeName(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }

    /// <summary>Size in bytes of one value of a numeric storage type, or 0 for other types.</summary>
    internal static int StorageSize(MatDataType type) => type switch
    {
        MatDataType.Int8 or MatDataType.UInt8 => 1,
        MatDataType.Int16 or MatDataType.UInt16 => 2,
        MatDataType.Int32 or MatDataType.UInt32 or MatDataType.Single => 4,
        MatDataType.Int64 or MatDataType.UInt64 or MatDataType.Double => 8,
        _ => 0,
    };

    /// <summary>Converts stored values to doubles; <paramref name="raw"/> contains exactly <c>values.Length</c> values.</summary>
    private void DecodeStorage(ReadOnlySpan<byte> raw, MatDataType type, Span<double> values)
    {
        bool be = _bigEndian;
        switch (type)
        {
            case MatDataType.Int8:
                for (int i = 0; i < values.Length; i++) values[i] = (sbyte)raw[i];
                break;
            case MatDataType.UInt8:
                for (int i = 0; i < values.Length; i++) values[i] = raw[i];
                break;
            case MatDataType.Int16:
                for (int i = 0; i < values.Length; i++)
                    values[i] = be ? BinaryPrimitives.ReadInt16BigEndian(raw[(2 * i)..]) : BinaryPrimitives.ReadInt16LittleEndian(raw[(2 * i)..]);
                break;
            case MatDataType.UInt16:
                for (int i = 0; i < values.Length; i++)
                    values[i] = be ? BinaryPrimitives.ReadUInt16BigEndian(raw[(2 * i)..]) : BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]);
                break;
            case MatDataType.Int32:
                for (int i = 0; i < values.Length; i++)
                    values[i] = be ? BinaryPrimitives.ReadInt32BigEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]);
                break;
            case MatDataType.UInt32:
                for (int i = 0; i < values.Length; i++)
                    values[i] = be ? BinaryPrimitives.ReadUInt32BigEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadUInt32LittleEndian(raw[(4 * i)..]);
                break;
            case MatDataType.Single:
                for (int i = 0; i < values.Length; i++)
                    values[i] = be ? BinaryPrimitives.ReadSingleBigEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                break;
            case MatDataType.Double:
                for (int i = 0; i < values.Length; i++)
                    values[i] = be ? BinaryPrimitives.ReadDoubleBigEndian(raw[(8 * i)..]) : BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                break;
            case MatDataType.Int64:
                for (int i = 0; i < values.Length; i++)
                    values[i] = be ? BinaryPrimitives.ReadInt64BigEndian(raw[(8 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]);
                break;
            case MatDataType.UInt64:
                for (int i = 0; i < values.Length; i++)
                    values[i] = be ? BinaryPrimitives.ReadUInt64BigEndian(raw[(8 * i)..]) : BinaryPrimitives.ReadUInt64LittleEndian(raw[(8 * i)..]);
                break;
            default:
                throw new InvalidOperationException($"internal error: DecodeStorage called with non-numeric type {type}");
        }
    }

    /// <summary>
    /// Converts decoded values to the array's class: rounds to float for single, and checks that
    /// integer classes hold integers in range. MATLAB stores values in the smallest storage type
    /// that represents them exactly, so a value that does not fit the class means a damaged file.
    /// Logical arrays become 0 or 1.
    /// </summary>
    private void ConvertToClass(Span<double> values, MatClass matClass, bool isLogical, string variable)
    {
        if (matClass == MatClass.Single)
        {
            for (int i = 0; i < values.Length; i++)
            {
                float rounded = (float)values[i];
                if (float.IsInfinity(rounded) && double.IsFinite(values[i]))
                    throw OutOfClassRange(variable, matClass, values[i], i);
                values[i] = rounded;
            }
        }
        else if (matClass != MatClass.Double)
        {
            var (min, max) = IntegerRange(matClass);
            for (int i = 0; i < values.Length; i++)
            {
                double v = values[i];
                if (!(v >= min && v <= max && v == Math.Floor(v)))
                    throw OutOfClassRange(variable, matClass, v, i);
            }
        }

        if (isLogical)
        {
            for (int i = 0; i < values.Length; i++)
                values[i] = values[i] != 0 ? 1 : 0;
        }
    }

    private static (double Min, double Max) IntegerRange(MatClass matClass) => matClass switch
    {
        MatClass.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        MatClass.UInt8 => (byte.MinValue, byte.MaxValue),
        MatClass.Int16 => (short.MinValue, short.MaxValue),
        MatClass.UInt16 => (ushort.MinValue, ushort.MaxValue),
        MatClass.Int32 => (int.MinValue, int.MaxValue),
        MatClass.UInt32 => (uint.MinValue, uint.MaxValue),
        // (double)long.MaxValue rounds up to 2^63, which is outside int64, so the bounds use the
        // largest doubles inside the range.
        MatClass.Int64 => (long.MinValue, Math.BitDecrement(9223372036854775808.0)),
        MatClass.UInt64 => (0, Math.BitDecrement(18446744073709551616.0)),
        _ => throw new InvalidOperationException($"internal error: {matClass} is not an integer class"),
    };

    private DataFormatException OutOfClassRange(string variable, MatClass matClass, double value, int index)
    {
        string className = MatArray.ClassNameOf(matClass);
        return new DataFormatException(FormattableString.Invariant(
            $"{_file}: {variable} of class {className} stores the value {value} at element {index}, which {className} cannot hold; the file is damaged"));
    }

    private static int Padding(int length) => (8 - length % 8) % 8;

    private uint ReadUInt32(ReadOnlySpan<byte> bytes) =>
        _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);

    private int ReadInt32(ReadOnlySpan<byte> bytes) =>
        _bigEndian ? BinaryPrimitives.ReadInt32BigEndian(bytes) : BinaryPrimitives.ReadInt32LittleEndian(bytes);

    /// <summary>One data element: its storage type and its data without tag or padding.</summary>
    private readonly ref struct Element(MatDataType type, ReadOnlySpan<byte> data)
    {
        public MatDataType Type { get; } = type;
        public ReadOnlySpan<byte> Data { get; } = data;
    }

    /// <summary>Reads the sub-elements of one miMATRIX in order, checking each length against the bytes left.</summary>
    private sealed class ElementReader(MatFileParser parser, byte[] bytes, int start, int length, string subject)
    {
        private readonly int _end = start + length;
        private int _position = start;

        /// <summary>The variable as named in error messages; set to its name once the name is read.</summary>
        public string Subject { get; set; } = subject;

        public bool HasMore => _position < _end;

        /// <summary>Reads the next element; <paramref name="what"/> names it in error messages.</summary>
        public Element Next(string what)
        {
            int remaining = _end - _position;
            if (remaining < 8)
            {
                throw new DataFormatException(
                    $"{parser._file}: truncated data: {Subject} ends before its {what} ({remaining} bytes left, a tag needs 8); " +
                    "the file is damaged, copy or save it again");
            }

            uint typeWord = parser.ReadUInt32(bytes.AsSpan(_position));
            uint smallSize = typeWord >> 16;
            if (smallSize != 0)
            {
                // Small data element: size and type share the first 4 bytes, the data the next 4.
                if (smallSize > 4)
                {
                    throw new DataFormatException(
                        $"{parser._file}: {Subject}: the small element for its {what} declares {smallSize} bytes, but at most 4 fit; the file is damaged");
                }
                var small = new Element((MatDataType)(typeWord & 0xFFFF), bytes.AsSpan(_position + 4, (int)smallSize));
                _position += 8;
                return small;
            }

            uint size = parser.ReadUInt32(bytes.AsSpan(_position + 4));
            if (size > remaining - 8)
            {
                throw new DataFormatException(
                    $"{parser._file}: truncated data: the {what} of {Subject} declares {size} bytes but only {remaining - 8} remain in the variable; " +
                    "the file is damaged, copy or save it again");
            }

            var element = new Element((MatDataType)typeWord, bytes.AsSpan(_position + 8, (int)size));
            _position += 8 + (int)size;
            _position += Math.Min(Padding((int)size), _end - _position);
            return element;
        }
    }
}
