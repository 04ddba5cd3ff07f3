using System.IO.Compression;
using DigitNet.Data;
using DigitNet.Data.Formats;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Data;

public class MatFileTests
{
    private static readonly MatDataType[] StorageTypes =
    [
        MatDataType.Int8, MatDataType.UInt8, MatDataType.Int16, MatDataType.UInt16, MatDataType.Int32,
        MatDataType.UInt32, MatDataType.Single, MatDataType.Double, MatDataType.Int64, MatDataType.UInt64,
    ];

    private static readonly MatClass[] NumericClasses =
    [
        MatClass.Double, MatClass.Single, MatClass.Int8, MatClass.UInt8, MatClass.Int16,
        MatClass.UInt16, MatClass.Int32, MatClass.UInt32, MatClass.Int64, MatClass.UInt64,
    ];

    // Candidates for round-trip values; each case keeps those that both the storage type and
    // the class represent exactly.
    private static readonly double[] CandidateValues =
    [
        0, 1, -1, 2, 100, -100, 127, -128, 200, 255, 1000, -30000, 65535, 70000, -2e9, 4e9, 2.5, -0.75, 1e10, -5e12,
    ];

    // The storage type travels as its name because MatDataType is internal to the library.
    public static TheoryData<string, MatClass, bool, bool, bool> StorageToClassCases()
    {
        var cases = new TheoryData<string, MatClass, bool, bool, bool>();
        foreach (var storage in StorageTypes)
        {
            foreach (bool bigEndian in new[] { false, true })
            {
                foreach (bool compressed in new[] { false, true })
                {
                    foreach (var matClass in NumericClasses)
                        cases.Add(storage.ToString(), matClass, false, bigEndian, compressed);
                    cases.Add(storage.ToString(), MatClass.UInt8, true, bigEndian, compressed);
                }
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(StorageToClassCases))]
    public void Read_StorageTypeConvertsToClass(string storageName, MatClass matClass, bool logical, bool bigEndian, bool compressed)
    {
        var storage = Enum.Parse<MatDataType>(storageName);
        double[] values = CandidateValues.Where(v => Fits(v, storage) && Fits(v, matClass) && (!logical || v is 0 or 1)).ToArray();
        Assert.True(values.Length >= 2, "the candidate list must give each case at least two values");
        var writer = new MatWriter(bigEndian).Add("v", [values.Length, 1], values, storage, matClass, compressed, logical);

        var file = MatFile.Read(new MemoryStream(writer.ToArray()), "roundtrip.mat");
        var array = file.Get("v");

        Assert.Equal(matClass, array.Class);
        Assert.Equal(logical, array.IsLogical);
        Assert.Equal([values.Length, 1], array.Dimensions);
        Assert.Equal(values, array.Data);
        Assert.Equal(bigEndian, file.IsBigEndian);
    }

    [Fact]
    public void Read_LogicalMapsNonZeroToOne()
    {
        var writer = new MatWriter().Add("mask", [1, 3], [0, 1, 7], MatDataType.UInt8, MatClass.UInt8, logical: true);

        var mask = MatFile.Read(new MemoryStream(writer.ToArray()), "logical.mat").Get("mask");

        Assert.Equal("logical", mask.ClassName);
        Assert.Equal([0.0, 1, 1], mask.Data);
    }

    [Fact]
    public void Read_SingleClassRoundsDoubleStorage()
    {
        var writer = new MatWriter().Add("s", [1, 1], [0.1], MatDataType.Double, MatClass.Single);

        var array = MatFile.Read(new MemoryStream(writer.ToArray()), "single.mat").Get("s");

        Assert.Equal((double)0.1f, array.Data[0]);
    }

    [Fact]
    public void Indexer_IsColumnMajor()
    {
        // Element (i, j) = 10 * i + j, stored column by column.
        var values = new double[3 * 4];
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 3; i++)
                values[j * 3 + i] = 10 * i + j;
        var writer = new MatWriter().Add("m", [3, 4], values, compressed: true);

        var m = MatFile.Read(new MemoryStream(writer.ToArray()), "matrix.mat").Get("m");

        Assert.Equal("3x4", m.DimensionsText);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(10 * i + j, m[i, j]);
        Assert.Throws<ArgumentOutOfRangeException>(() => m[3, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => m[0, -1]);
    }

    [Fact]
    public void Read_NDimensionalArray()
    {
        double[] values = Enumerable.Range(0, 24).Select(i => (double)i).ToArray();
        var writer = new MatWriter(bigEndian: true).Add("cube", [2, 3, 4], values, MatDataType.UInt8, MatClass.Double, compressed: true);

        var cube = MatFile.Read(new MemoryStream(writer.ToArray()), "cube.mat").Get("cube");

        Assert.Equal([2, 3, 4], cube.Dimensions);
        Assert.Equal(values, cube.Data);
        Assert.Throws<InvalidOperationException>(() => cube[0, 0]);
    }

    [Fact]
    public void Read_EmptyArrays()
    {
        var writer = new MatWriter()
            .Add("empty", [0, 0], [])
            .Add("noRows", [0, 5], [], MatDataType.UInt8, MatClass.Int32, compressed: true);
        // An empty array may also omit its data element entirely.
        writer.AddElement(writer.Matrix("bare", [0, 3], (int)MatClass.Double, logical: false, complex: false));

        var file = MatFile.Read(new MemoryStream(writer.ToArray()), "empty.mat");

        Assert.Equal(0, file.Get("empty").ElementCount);
        Assert.Equal([0, 5], file.Get("noRows").Dimensions);
        Assert.Equal([0, 3], file.Get("bare").Dimensions);
    }

    [Fact]
    public void Read_SmallAndRegularElementsAgree()
    {
        // A 1x1 uint8 value and a four-letter name fit in small data elements.
        var small = new MatWriter().Add("abcd", [1, 1], [42], MatDataType.UInt8);
        var regular = new MatWriter { UseSmallElements = false }.Add("abcd", [1, 1], [42], MatDataType.UInt8);

        var fromSmall = MatFile.Read(new MemoryStream(small.ToArray()), "small.mat").Get("abcd");
        var fromRegular = MatFile.Read(new MemoryStream(regular.ToArray()), "regular.mat").Get("abcd");

        Assert.True(small.ToArray().Length < regular.ToArray().Length, "the small-element file must be shorter");
        Assert.Equal([42.0], fromSmall.Data);
        Assert.Equal([42.0], fromRegular.Data);
    }

    [Fact]
    public void Read_HeaderTextAndVariableOrder()
    {
        var writer = new MatWriter { HeaderText = "MATLAB 5.0 MAT-file, custom text" }
            .Add("b", [1, 1], [1])
            .Add("a", [1, 1], [2], compressed: true);

        var file = MatFile.Read(new MemoryStream(writer.ToArray()), "order.mat");

        Assert.Equal("MATLAB 5.0 MAT-file, custom text", file.HeaderText);
        Assert.Equal(["b", "a"], file.Arrays.Select(a => a.Name));
        Assert.Null(file.Find("c"));
    }

    [Fact]
    public void Read_NonSeekableStream()
    {
        var writer = new MatWriter().Add("x", [2, 1], [3, 4], compressed: true);
        using var stream = new GZipStream(new MemoryStream(Gzip(writer.ToArray())), CompressionMode.Decompress);

        var x = MatFile.Read(stream, "piped.mat").Get("x");

        Assert.Equal([3.0, 4], x.Data);
    }

    [Fact]
    public void Read_DigitsMatVariables()
    {
        var file = MatFile.Read(TestData.DigitsMatPath);

        Assert.StartsWith("MATLAB 5.0 MAT-file, Platform: MACI64", file.HeaderText);
        Assert.False(file.IsBigEndian);
        Assert.Equal(["X", "Xtest", "Xvalid", "y", "ytest", "yvalid"], file.Arrays.Select(a => a.Name).Order(StringComparer.Ordinal));
        Assert.Equal([5000, 256], file.Get("X").Dimensions);
        Assert.Equal([5000, 1], file.Get("y").Dimensions);
        Assert.Equal([1000, 256], file.Get("Xtest").Dimensions);
        Assert.All(file.Arrays, a => Assert.Equal(MatClass.Double, a.Class));
        Assert.Empty(file.UnsupportedVariables);
    }

    public static TheoryData<string, int, string> UnsupportedKinds => new()
    {
        { "cellVar", (int)MatClass.Cell, "a cell array" },
        { "structVar", (int)MatClass.Struct, "a struct array" },
        { "objectVar", (int)MatClass.Object, "an object" },
        { "charVar", (int)MatClass.Char, "a char array" },
        { "sparseVar", (int)MatClass.Sparse, "a sparse array" },
        { "handleVar", 16, "class 16" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedKinds))]
    public void Get_UnsupportedKindNamesVariableAndClass(string name, int classCode, string description)
    {
        foreach (bool compressed in new[] { false, true })
        {
            var writer = new MatWriter().Add("before", [1, 1], [1]);
            writer.AddOfClass(name, classCode, [1, 2], compressed, writer.Element(MatDataType.UInt8, [1, 2, 3, 4, 5, 6, 7, 8, 9]));
            writer.Add("after", [1, 1], [2], compressed: true);

            var file = MatFile.Read(new MemoryStream(writer.ToArray()), "kinds.mat");
            var error = Assert.Throws<DataFormatException>(() => file.Get(name));

            Assert.Contains("kinds.mat", error.Message);
            Assert.Contains($"variable '{name}'", error.Message);
            Assert.Contains(description, error.Message);
            Assert.Equal(name, Assert.Single(file.UnsupportedVariables).Name);
            Assert.Equal([2.0], file.Get("after").Data);
            Assert.Throws<DataFormatException>(() => file.Find(name));
        }
    }

    [Fact]
    public void Get_ComplexArrayIsRejected()
    {
        var writer = new MatWriter().AddComplex("z", [1, 2], [1, 2], [3, 4], compressed: true);

        var file = MatFile.Read(new MemoryStream(writer.ToArray()), "complex.mat");
        var error = Assert.Throws<DataFormatException>(() => file.Get("z"));

        Assert.Contains("complex.mat: variable 'z' is a complex double array", error.Message);
    }

    [Fact]
    public void Get_MissingVariableListsTheOthers()
    {
        var writer = new MatWriter().Add("y", [1, 1], [1]).Add("Xvalid", [1, 1], [1], compressed: true);
        var file = MatFile.Read(new MemoryStream(writer.ToArray()), "digits.mat");

        var error = Assert.Throws<DataFormatException>(() => file.Get("X"));

        Assert.Equal("digits.mat: variable 'X' not found; the file has: y, Xvalid", error.Message);
    }

    [Fact]
    public void Read_MissingFile()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "nothing-here.mat");

        var error = Assert.Throws<DataFormatException>(() => MatFile.Read(path));

        Assert.Contains("nothing-here.mat: file not found", error.Message);
        Assert.IsType<FileNotFoundException>(error.InnerException);
    }

    public static TheoryData<string> BadFileCases => new(BadFiles.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(BadFileCases))]
    public void Read_BadFileRaisesClearError(string caseName)
    {
        var (bytes, variable, fragments) = BadFiles[caseName]();
        using var temp = new TempDirectory();
        string path = temp.Write($"{caseName}.mat", bytes);

        var error = Assert.Throws<DataFormatException>(() =>
        {
            var file = MatFile.Read(path);
            file.Get(variable ?? "v");
        });

        Assert.Contains($"{caseName}.mat", error.Message);
        if (variable is not null)
            Assert.Contains($"variable '{variable}'", error.Message);
        foreach (string fragment in fragments)
            Assert.Contains(fragment, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("dims-lie")]
    [InlineData("element-size-lies")]
    [InlineData("compressed-size-lies")]
    [InlineData("compressed-zeros-lie")]
    public void Read_LyingSizesAllocateLittle(string caseName)
    {
        var (bytes, _, _) = BadFiles[caseName]();
        long before = GC.GetAllocatedBytesForCurrentThread();

        Assert.Throws<DataFormatException>(() => MatFile.Read(new MemoryStream(bytes), $"{caseName}.mat").Get("v"));

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 << 20, $"{caseName}: reading allocated {allocated} bytes for a {bytes.Length}-byte file");
    }

    [Fact]
    public void Read_ChecksumMismatchIsDetected()
    {
        // A stored (uncompressed) deflate block decodes any bytes, so only the Adler-32
        // checksum at the end of the zlib stream shows that a data byte changed.
        var writer = new MatWriter();
        byte[] matrix = writer.Matrix("v", [1, 4], (int)MatClass.Double, false, false,
            writer.Element(MatDataType.UInt8, [10, 20, 30, 40]));
        byte[] compressed = writer.Compress(matrix, CompressionLevel.NoCompression);
        int dataByte = Array.LastIndexOf(compressed, (byte)40);
        compressed[dataByte] = 41;
        byte[] bytes = [.. writer.Header(), .. compressed];

        var error = Assert.Throws<DataFormatException>(() => MatFile.Read(new MemoryStream(bytes), "checksum.mat"));

        Assert.Contains("corrupt compressed data", error.Message);
        Assert.Contains("variable 'v'", error.Message);
    }

    private delegate (byte[] Bytes, string? Variable, string[] Fragments) BadFile();

    /// <summary>Damaged or unsupported files: the bytes, the variable the message must name (if any) and other required fragments.</summary>
    private static readonly Dictionary<string, BadFile> BadFiles = new()
    {
        ["text-file"] = () => (System.Text.Encoding.ASCII.GetBytes(new string('x', 300)), null, ["this is a text file", "not a MAT-file"]),
        ["tiny-file"] = () => ([1, 2, 3], null, ["not a MAT-file", "3 bytes"]),
        ["empty-file"] = () => ([], null, ["not a MAT-file", "0 bytes"]),
        ["header-truncated"] = () => (new MatWriter().Header()[..100], null, ["truncated", "100"]),
        ["version-7-3"] = () => (new MatWriter { Version = 0x0200 }.Add("v", [1, 1], [1]).ToArray(), null, ["7.3", "HDF5", "-v7"]),
        ["hdf5-signature"] = () => ([0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A, .. new byte[600]], null, ["HDF5", "7.3", "-v7"]),
        ["version-4"] = () => (Version4File(), null, ["version 4", "-v7"]),
        ["zero-bytes-not-version-4"] = () => ([0, 0, 0, 7, .. new byte[300]], null, ["not a MAT-file", "version 4 matrix header"]),
        ["idx-file"] = () => ([0, 0, 8, 3, 0, 0, 0x27, 0x10, .. new byte[200]], null, ["IDX file", "not a MAT-file"]),
        ["gzip-file"] = () => ([0x1F, 0x8B, 8, 0, .. new byte[200]], null, ["gzip file", "not a MAT-file"]),
        ["png-image"] = () => ([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. new byte[40]], null, ["PNG image", "not a MAT-file"]),
        ["model-file"] = () => (ModelFileBytes(), null, ["safetensors model file", "not a MAT-file", "which file is the data"]),
        ["unknown-version"] = () => (new MatWriter { Version = 0x0300 }.Add("v", [1, 1], [1]).ToArray(), null, ["0x0300", "-v7"]),
        ["bad-byte-order-mark"] = () => (new MatWriter { EndianMark = "XX" }.Add("v", [1, 1], [1]).ToArray(), null, ["not a MAT-file", "'IM' or 'MI'"]),
        ["tag-truncated"] = () => ([.. new MatWriter().Header(), 14, 0, 0, 0, 64], null, ["truncated", "5 bytes"]),
        ["element-truncated"] = () => (Cut(new MatWriter().Add("v", [4, 4], new double[16]).ToArray(), 60), "v", ["truncated", "declares"]),
        ["compressed-element-truncated"] = () => (Cut(new MatWriter().Add("v", [40, 40], Ramp(1600), compressed: true).Add("w", [1, 1], [1], compressed: true).ToArray(), 1000), "v", ["truncated"]),
        ["zlib-stream-truncated"] = () => (ZlibStreamTruncated(), "v", ["truncated compressed data", "zlib stream ends"]),
        ["zlib-corrupt"] = () => (ZlibCorrupt(), null, ["corrupt compressed data", "variable #1"]),
        ["size-mismatch"] = () => (new MatWriter().AddElement(MatrixWithData("v", [3, 3], MatDataType.Double, new double[8])).ToArray(), "v", ["3x3 (9 elements)", "64 bytes", "miDOUBLE"]),
        ["dims-lie"] = () => (new MatWriter().AddElement(MatrixWithData("v", [100000, 100000], MatDataType.Double, [1])).ToArray(), "v", ["100000x100000", "8 bytes"]),
        ["element-size-lies"] = () => ([.. new MatWriter().Header(), .. new MatWriter().Tag(14, 0x7FFFFFF0), .. new byte[64]], null, ["truncated", "2147483632"]),
        ["compressed-size-lies"] = () => (CompressedSizeLies(), null, ["declares 2147483000 bytes after decompression"]),
        ["compressed-zeros-lie"] = () => (CompressedZerosLie(), "v", ["100000x100000"]),
        ["value-outside-class"] = () => (new MatWriter().Add("v", [1, 2], [5, 300], MatDataType.Int16, MatClass.Int8).ToArray(), "v", ["int8", "300", "element 1"]),
        ["fraction-in-integer-class"] = () => (new MatWriter().Add("v", [1, 1], [2.5], MatDataType.Double, MatClass.Int32, compressed: true).ToArray(), "v", ["int32", "2.5"]),
        ["negative-dimension"] = () => (new MatWriter().AddElement(MatrixWithData("v", [2, -1], MatDataType.Double, [])).ToArray(), null, ["dimension 2 is -1"]),
        ["one-dimension"] = () => (new MatWriter { UseSmallElements = false }.AddElement(MatrixWithData("v", [2], MatDataType.Double, [1, 2])).ToArray(), null, ["at least two"]),
        ["text-data"] = () => (new MatWriter().AddElement(MatrixWithRawData("v", [1, 4], MatDataType.Utf8, [65, 66, 67, 68])).ToArray(), "v", ["not a numeric type"]),
        ["duplicate-name"] = () => (new MatWriter().Add("v", [1, 1], [1]).Add("v", [1, 1], [2], compressed: true).ToArray(), "v", ["appears twice"]),
        ["top-level-not-matrix"] = () => ([.. new MatWriter().Header(), .. new MatWriter().Element(MatDataType.Double, new byte[16])], null, ["element type 9", "miMATRIX"]),
        ["bad-array-flags"] = () => (BadArrayFlags(), null, ["array flags", "variable #1"]),
        ["small-element-too-big"] = () => (SmallElementTooBig(), null, ["at most 4"]),
        ["trailing-garbage"] = () => ([.. new MatWriter().Add("v", [1, 1], [1]).ToArray(), 1, 2, 3], null, ["3 bytes", "truncated"]),
    };

    [Fact]
    public void Read_ToleratesZeroPaddingAfterLastElement()
    {
        byte[] bytes = [.. new MatWriter().Add("v", [1, 1], [7], compressed: true).ToArray(), 0, 0, 0, 0];

        var v = MatFile.Read(new MemoryStream(bytes), "padded.mat").Get("v");

        Assert.Equal([7.0], v.Data);
    }

    private static byte[] Version4File()
    {
        // Version 4 matrix header: type 0000 (little-endian double full), 1 row, 1 column, real, name length 2.
        var bytes = new List<byte>();
        foreach (int value in new[] { 0, 1, 1, 0, 2 })
            bytes.AddRange(BitConverter.GetBytes(value));
        bytes.AddRange("v\0"u8.ToArray());
        bytes.AddRange(BitConverter.GetBytes(1.0));
        bytes.AddRange(new byte[128]);
        return bytes.ToArray();
    }

    private static byte[] ModelFileBytes()
    {
        byte[] header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"u8.ToArray();
        return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[4], .. new byte[128]];
    }

    private static byte[] Cut(byte[] bytes, int removeFromEnd) => bytes[..^removeFromEnd];

    private static double[] Ramp(int count) => Enumerable.Range(0, count).Select(i => (double)(i * 7919 % 1013)).ToArray();

    private static byte[] MatrixWithData(string name, int[] dimensions, MatDataType storage, double[] values)
    {
        var writer = new MatWriter { UseSmallElements = dimensions.Length > 1 };
        return writer.Matrix(name, dimensions, (int)MatClass.Double, false, false, writer.Element(storage, writer.Encode(values, storage)));
    }

    private static byte[] MatrixWithRawData(string name, int[] dimensions, MatDataType storage, byte[] data)
    {
        var writer = new MatWriter();
        return writer.Matrix(name, dimensions, (int)MatClass.Double, false, false, writer.Element(storage, data));
    }

    /// <summary>A compressed element whose zlib stream stops (cleanly cut) before the miMATRIX it declares is complete.</summary>
    private static byte[] ZlibStreamTruncated()
    {
        var writer = new MatWriter();
        byte[] matrix = writer.Matrix("v", [40, 40], (int)MatClass.Double, false, false, writer.Element(MatDataType.Double, writer.Encode(Ramp(1600), MatDataType.Double)));
        byte[] compressed = MatWriter.ZlibCompress(matrix);
        byte[] cut = compressed[..(compressed.Length / 2)];
        return [.. writer.Header(), .. writer.Tag((uint)MatDataType.Compressed, (uint)cut.Length), .. cut];
    }

    /// <summary>A compressed element with a valid zlib header followed by bytes that are not deflate data.</summary>
    private static byte[] ZlibCorrupt()
    {
        var writer = new MatWriter();
        byte[] garbage = [0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x12, 0x34, 0x56, 0x78];
        return [.. writer.Header(), .. writer.Tag((uint)MatDataType.Compressed, (uint)garbage.Length), .. garbage];
    }

    /// <summary>A compressed element whose inner miMATRIX tag declares about 2 GB.</summary>
    private static byte[] CompressedSizeLies()
    {
        var writer = new MatWriter();
        byte[] compressed = MatWriter.ZlibCompress([.. writer.Tag((uint)MatDataType.Matrix, 2147483000), .. new byte[32]]);
        return [.. writer.Header(), .. writer.Tag((uint)MatDataType.Compressed, (uint)compressed.Length), .. compressed];
    }

    /// <summary>A 100000x100000 double matrix whose real part contains 4 MB of zeros, compressed to a few kilobytes.</summary>
    private static byte[] CompressedZerosLie()
    {
        var writer = new MatWriter();
        byte[] matrix = writer.Matrix("v", [100000, 100000], (int)MatClass.Double, false, false, writer.Element(MatDataType.Double, new byte[4 << 20]));
        return [.. writer.Header(), .. writer.Compress(matrix)];
    }

    private static byte[] BadArrayFlags()
    {
        var writer = new MatWriter();
        byte[] content = [.. writer.Element(MatDataType.Double, new byte[8]), .. writer.Element(MatDataType.Int32, [1, 0, 0, 0, 1, 0, 0, 0])];
        return [.. writer.Header(), .. writer.Tag((uint)MatDataType.Matrix, (uint)content.Length), .. content];
    }

    private static byte[] SmallElementTooBig()
    {
        var writer = new MatWriter();
        // Small tag declaring 6 bytes of miUINT32 in place of the array flags.
        byte[] content = [.. writer.UInt32Bytes((6u << 16) | (uint)MatDataType.UInt32), 1, 2, 3, 4, .. new byte[16]];
        return [.. writer.Header(), .. writer.Tag((uint)MatDataType.Matrix, (uint)content.Length), .. content];
    }

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            gzip.Write(data);
        return output.ToArray();
    }

    private static bool Fits(double value, MatDataType storage) => storage switch
    {
        MatDataType.Int8 => IsInteger(value) && value is >= sbyte.MinValue and <= sbyte.MaxValue,
        MatDataType.UInt8 => IsInteger(value) && value is >= 0 and <= byte.MaxValue,
        MatDataType.Int16 => IsInteger(value) && value is >= short.MinValue and <= short.MaxValue,
        MatDataType.UInt16 => IsInteger(value) && value is >= 0 and <= ushort.MaxValue,
        MatDataType.Int32 => IsInteger(value) && value is >= int.MinValue and <= int.MaxValue,
        MatDataType.UInt32 => IsInteger(value) && value is >= 0 and <= uint.MaxValue,
        MatDataType.Int64 => IsInteger(value),
        MatDataType.UInt64 => IsInteger(value) && value >= 0,
        MatDataType.Single => (float)value == value,
        _ => true,
    };

    private static bool Fits(double value, MatClass matClass) => matClass switch
    {
        MatClass.Int8 => Fits(value, MatDataType.Int8),
        MatClass.UInt8 => Fits(value, MatDataType.UInt8),
        MatClass.Int16 => Fits(value, MatDataType.Int16),
        MatClass.UInt16 => Fits(value, MatDataType.UInt16),
        MatClass.Int32 => Fits(value, MatDataType.Int32),
        MatClass.UInt32 => Fits(value, MatDataType.UInt32),
        MatClass.Int64 => Fits(value, MatDataType.Int64),
        MatClass.UInt64 => Fits(value, MatDataType.UInt64),
        MatClass.Single => Fits(value, MatDataType.Single),
        _ => true,
    };

    private static bool IsInteger(double value) => value == Math.Floor(value);
}
