using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using DigitNet.Serialization;

namespace DigitNet.Tests.Serialization;

public sealed class SafeTensorsTests
{
    private static SafeTensorsFile Open(byte[] bytes) => SafeTensorsFile.Open(new MemoryStream(bytes), "test.safetensors");

    private static string Reject(byte[] bytes)
    {
        var error = Assert.Throws<ModelFormatException>(() => Open(bytes));
        Assert.StartsWith("test.safetensors: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        return error.Message;
    }

    private static byte[] WriteSample()
    {
        var stream = new MemoryStream();
        SafeTensors.Write(stream,
        [
            new SafeTensorData("a.weight", [2, 3], new float[] { 1, 2, 3, 4, 5, -6.5f }),
            new SafeTensorData("a.bias", [2], new float[] { float.Epsilon, -0f }),
            new SafeTensorData("b.weight", [1, 1], new float[] { 42 }),
        ], new Dictionary<string, string> { ["format"] = "test", ["note"] = "{\"x\":1}" });
        return stream.ToArray();
    }

    [Fact]
    public void WriterFollowsPublishedLayout()
    {
        byte[] bytes = WriteSample();
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);

        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.StartsWith("{", header);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);
        Assert.EndsWith("}", header.TrimEnd(' '));

        using var json = JsonDocument.Parse(header);
        var root = json.RootElement;
        Assert.Equal("test", root.GetProperty("__metadata__").GetProperty("format").GetString());
        Assert.Equal("[0,24]", root.GetProperty("a.weight").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[24,32]", root.GetProperty("a.bias").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[32,36]", root.GetProperty("b.weight").GetProperty("data_offsets").GetRawText());
        Assert.Equal("[2,3]", root.GetProperty("a.weight").GetProperty("shape").GetRawText());
        Assert.Equal("F32", root.GetProperty("a.bias").GetProperty("dtype").GetString());
        Assert.Equal(8 + (int)headerLength + 36, bytes.Length);
        Assert.Equal(-6.5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)headerLength + 20)));
    }

    [Fact]
    public void RoundTripKeepsNamesShapesAndBits()
    {
        using var file = Open(WriteSample());
        Assert.Equal(["a.weight", "a.bias", "b.weight"], file.Tensors.Select(t => t.Name));
        Assert.Equal("{\"x\":1}", file.Metadata["note"]);

        var weight = file.Find("a.weight")!;
        Assert.Equal([2L, 3L], weight.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, -6.5f }, file.ReadSingles(weight));

        var bias = file.ReadSingles(file.Find("a.bias")!);
        Assert.Equal(BitConverter.SingleToInt32Bits(float.Epsilon), BitConverter.SingleToInt32Bits(bias[0]));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(bias[1]));
    }

    [Fact]
    public void ConvertsHalfBFloatAndDouble()
    {
        var data = new byte[2 + 2 + 8];
        BinaryPrimitives.WriteHalfLittleEndian(data, (Half)1.5f);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2), (ushort)(BitConverter.SingleToInt32Bits(-2.25f) >> 16));
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(4), 0.1);
        string header = """{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},"d":{"dtype":"F64","shape":[],"data_offsets":[4,12]}}""";

        using var file = Open(SafeTensorsBytes.Build(header, data));
        Assert.Equal(1.5f, file.ReadSingles(file.Find("h")!)[0]);
        Assert.Equal(-2.25f, file.ReadSingles(file.Find("b")!)[0]);
        Assert.Equal(0.1f, file.ReadSingles(file.Find("d")!)[0]);
    }

    [Fact]
    public void IntegerDTypeIsNotReadAsWeights()
    {
        string header = """{"n":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""";
        using var file = Open(SafeTensorsBytes.Build(header, new byte[8]));
        var error = Assert.Throws<ModelFormatException>(() => file.ReadSingles(file.Tensors[0]));
        Assert.Contains("dtype I64", error.Message);
    }

    [Fact]
    public void AcceptsEmptyTensorAndNoMetadata()
    {
        string header = """{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        using var file = Open(SafeTensorsBytes.Build(header, SafeTensorsBytes.Floats(7)));
        Assert.Empty(file.Metadata);
        Assert.Empty(file.ReadSingles(file.Find("e")!));
        Assert.Equal(7f, file.ReadSingles(file.Find("x")!)[0]);
    }

    [Fact]
    public void RejectsEmptyFile() => Assert.Contains("0 bytes, too short", Reject([]));

    [Theory]
    [InlineData(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, "this is a PNG image, not a safetensors model file")]
    [InlineData(new byte[] { (byte)'M', (byte)'A', (byte)'T', (byte)'L', (byte)'A', (byte)'B', (byte)' ', (byte)'5' }, "this is a MAT-file (a data set), not a safetensors model file")]
    [InlineData(new byte[] { 0, 0, 8, 3, 0, 0, 0x27, 0x10 }, "this is an IDX file (MNIST images or labels), not a safetensors model file")]
    [InlineData(new byte[] { 0x1F, 0x8B, 8, 0, 0, 0, 0, 0 }, "this is a gzip file, not a safetensors model file")]
    [InlineData(new byte[] { (byte)'t', (byte)'r', (byte)'a', (byte)'i', (byte)'n', (byte)' ', (byte)'-', (byte)'-', (byte)'d', (byte)'a', (byte)'t', (byte)'a', (byte)' ', (byte)'x', (byte)'\n', (byte)'#' }, "this is a text file, not a safetensors model file")]
    public void NamesFilesOfOtherFormats(byte[] start, string expected)
    {
        string message = Reject([.. start, .. new byte[200]]);
        Assert.Contains(expected, message);
    }

    [Fact]
    public void RejectsHeaderLengthBeyondFile()
    {
        string message = Reject(SafeTensorsBytes.Build("{}", [], declaredLength: 1000));
        Assert.Contains("header length 1000 is larger than the 2 bytes", message);
    }

    [Fact]
    public void RejectsHeaderLengthTwoToThe63()
    {
        string message = Reject(SafeTensorsBytes.Build("{}", [], declaredLength: 1UL << 63));
        Assert.Contains("header length 9223372036854775808", message);
    }

    [Fact]
    public void RejectsNonJsonHeader()
    {
        Assert.Contains("not valid JSON", Reject(SafeTensorsBytes.Build("{\"a\": nope}", [])));
        Assert.Contains("must start with '{'", Reject(SafeTensorsBytes.Build("[1, 2]  ", [])));
        Assert.Contains("must start with '{'", Reject(SafeTensorsBytes.Build("hello world", [])));
    }

    [Fact]
    public void RejectsUnknownDType()
    {
        string header = """{"x":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}""";
        string message = Reject(SafeTensorsBytes.Build(header, new byte[4]));
        Assert.Contains("tensor 'x': unknown dtype 'F33'", message);
    }

    [Fact]
    public void RejectsOffsetsOutOfRange()
    {
        string header = """{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";
        Assert.Contains("reach past the end of the 8-byte data section", Reject(SafeTensorsBytes.Build(header, new byte[8])));

        string huge = """{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}""";
        Assert.Contains("not a non-negative integer", Reject(SafeTensorsBytes.Build(huge, new byte[4])));

        string reversed = """{"x":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}""";
        Assert.Contains("end before they begin", Reject(SafeTensorsBytes.Build(reversed, new byte[4])));
    }

    [Fact]
    public void RejectsOverlappingOffsets()
    {
        string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""";
        string message = Reject(SafeTensorsBytes.Build(header, new byte[12]));
        Assert.Contains("tensor 'b' at data_offsets [4, 12] overlaps tensor 'a'", message);
    }

    [Fact]
    public void RejectsGapsAndTrailingBytes()
    {
        string gap = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""";
        Assert.Contains("belong to no tensor", Reject(SafeTensorsBytes.Build(gap, new byte[8])));

        string trailing = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        Assert.Contains("trailing 4 bytes", Reject(SafeTensorsBytes.Build(trailing, new byte[8])));
    }

    [Fact]
    public void RejectsShapeThatDisagreesWithByteLength()
    {
        string header = """{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""";
        string message = Reject(SafeTensorsBytes.Build(header, new byte[8]));
        Assert.Contains("shape [3] of dtype F32 needs 12 bytes, but data_offsets [0, 8] cover 8", message);
    }

    [Fact]
    public void RejectsShapeThatOverflows()
    {
        string header = """{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}""";
        Assert.Contains("too large to address", Reject(SafeTensorsBytes.Build(header, new byte[4])));
    }

    [Fact]
    public void RejectsMalformedEntries()
    {
        Assert.Contains("missing string key \"dtype\"", Reject(SafeTensorsBytes.Build("""{"x":{"shape":[1],"data_offsets":[0,4]}}""", new byte[4])));
        Assert.Contains("shape entry -1", Reject(SafeTensorsBytes.Build("""{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", new byte[4])));
        Assert.Contains("data_offsets", Reject(SafeTensorsBytes.Build("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", new byte[4])));
        Assert.Contains("must be a string", Reject(SafeTensorsBytes.Build("""{"__metadata__":{"k":1}}""", [])));
        Assert.Contains("twice", Reject(SafeTensorsBytes.Build("""{"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}""", [])));
    }

    [Fact]
    public void WriterRejectsBadTensors()
    {
        var stream = new MemoryStream();
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(stream, [new SafeTensorData("x", [2], new float[3])]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(stream,
            [new SafeTensorData("x", [1], new float[1]), new SafeTensorData("x", [1], new float[1])]));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(stream, [new SafeTensorData("__metadata__", [1], new float[1])]));
    }
}
