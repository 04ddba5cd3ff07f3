using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using DigitNet.Data.Formats;

namespace DigitNet.Serialization;

/// <summary>Element types of the safetensors format, named as in its JSON header (<c>F32</c>, <c>BF16</c>, ...).</summary>
public enum SafeTensorsDType
{
    Bool, U8, I8, F8E5M2, F8E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64,
}

/// <summary>
/// One entry of a safetensors header: name, element type, shape and byte range
/// [<c>Begin</c>, <c>End</c>) in the data section, relative to its start (the end of the header).
/// </summary>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>Number of bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Number of elements, the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (product, dimension) => product * dimension);

    /// <summary>The shape as text, such as <c>[50, 256]</c>.</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>A float32 tensor to write: its name, shape and row-major values.</summary>
public readonly record struct SafeTensorData(string Name, IReadOnlyList<int> Shape, ReadOnlyMemory<float> Values);

/// <summary>
/// Reader and writer of the safetensors container (https://github.com/huggingface/safetensors):
/// an unsigned 64-bit little-endian header length <c>N</c>, <c>N</c> bytes of UTF-8 JSON that
/// map each tensor name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> plus an
/// optional <c>"__metadata__"</c> map of strings, then the raw little-endian tensor data, with
/// offsets relative to the end of the header.
/// </summary>
/// <remarks>
/// The writer stores float32 tensors only, pads the header with spaces to a multiple of 8 bytes
/// and lays the tensors out back to back in the order given. The reader accepts any file that
/// follows the format's rules and converts F32, F16, BF16 and F64 tensors to float32 (F64 is
/// rounded to the nearest float). The other dtypes are recognised but rejected for weights with a
/// message naming the dtype.
/// </remarks>
public static class SafeTensors
{
    /// <summary>Key of the string-to-string metadata map in the header.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// Largest header accepted, in bytes, the same limit as the reference Rust implementation
    /// (MAX_HEADER_SIZE in safetensors/src/tensor.rs). It keeps a corrupt length field from
    /// causing a huge allocation.
    /// </summary>
    public const int MaxHeaderBytes = 100_000_000;

    private static readonly (string Name, SafeTensorsDType DType, int Size)[] DTypes =
    [
        ("BOOL", SafeTensorsDType.Bool, 1), ("U8", SafeTensorsDType.U8, 1), ("I8", SafeTensorsDType.I8, 1),
        ("F8_E5M2", SafeTensorsDType.F8E5M2, 1), ("F8_E4M3", SafeTensorsDType.F8E4M3, 1),
        ("I16", SafeTensorsDType.I16, 2), ("U16", SafeTensorsDType.U16, 2), ("F16", SafeTensorsDType.F16, 2),
        ("BF16", SafeTensorsDType.BF16, 2), ("I32", SafeTensorsDType.I32, 4), ("U32", SafeTensorsDType.U32, 4),
        ("F32", SafeTensorsDType.F32, 4), ("F64", SafeTensorsDType.F64, 8), ("I64", SafeTensorsDType.I64, 8),
        ("U64", SafeTensorsDType.U64, 8),
    ];

    /// <summary>The header name of <paramref name="dtype"/>, such as <c>F8_E4M3</c>.</summary>
    public static string DTypeName(SafeTensorsDType dtype) => DTypes[(int)dtype].Name;

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(SafeTensorsDType dtype) => DTypes[(int)dtype].Size;

    /// <summary>Whether <see cref="SafeTensorsFile.ReadSingles(SafeTensorInfo)"/> can convert <paramref name="dtype"/> to float32.</summary>
    public static bool IsReadableAsSingle(SafeTensorsDType dtype) =>
        dtype is SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F64;

    internal static bool TryParseDType(string name, out SafeTensorsDType dtype)
    {
        foreach (var entry in DTypes)
        {
            if (entry.Name == name)
            {
                dtype = entry.DType;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    internal static string KnownDTypeNames => string.Join(", ", DTypes.Select(d => d.Name));

    /// <summary>
    /// Writes <paramref name="tensors"/> as F32, in the order given, with <paramref name="metadata"/>
    /// as the <c>__metadata__</c> map. The stream is written from its current position.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty, repeated or <c>__metadata__</c>, or a shape does not match its values.</exception>
    public static void Write(Stream stream, IReadOnlyList<SafeTensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        byte[] header = BuildHeader(tensors, metadata);

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);

        foreach (var tensor in tensors)
            WriteLittleEndian(stream, tensor.Values.Span);
    }

    private static byte[] BuildHeader(IReadOnlyList<SafeTensorData> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        // Relaxed escaping writes a quote inside a metadata string as \" rather than \u0022, so the
        // JSON texts stored in the metadata stay readable in the file.
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var tensor in tensors)
            {
                if (string.IsNullOrEmpty(tensor.Name) || tensor.Name == MetadataKey)
                    throw new ArgumentException($"invalid tensor name '{tensor.Name}'; names must be non-empty and not {MetadataKey}");
                if (!names.Add(tensor.Name))
                    throw new ArgumentException($"tensor name '{tensor.Name}' is given twice; names must be unique");
                long elements = tensor.Shape.Aggregate(1L, (product, dimension) => product * dimension);
                if (tensor.Shape.Any(d => d < 0) || elements != tensor.Values.Length)
                    throw new ArgumentException($"tensor '{tensor.Name}': shape [{string.Join(", ", tensor.Shape)}] does not match its {tensor.Values.Length} values");

                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int dimension in tensor.Shape) json.WriteNumberValue(dimension);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + elements * sizeof(float));
                json.WriteEndArray();
                json.WriteEndObject();
                offset += elements * sizeof(float);
            }
            json.WriteEndObject();
        }

        // The format pads the header with spaces so that the data starts 8-byte aligned.
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteLittleEndian(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        Span<byte> bytes = stackalloc byte[4];
        foreach (float value in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            stream.Write(bytes);
        }
    }
}

/// <summary>
/// A safetensors file opened for reading. <see cref="Open(string)"/> reads and checks the whole
/// header before anything else: the header length against the file length, the JSON, every
/// dtype, shape and offset, and that the tensors tile the data section exactly, without gaps or
/// overlaps, as the format requires. Tensor data is read on request.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensorsFile(Stream stream, bool leaveOpen, string displayName, long dataStart, long dataLength,
        List<SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
        _dataStart = dataStart;
        DisplayName = displayName;
        DataLength = dataLength;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file name used in error messages.</summary>
    public string DisplayName { get; }

    /// <summary>Every tensor, in the order of its data offsets.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map; empty when the header has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Length of the data section in bytes.</summary>
    public long DataLength { get; }

    /// <summary>Opens and validates the file at <paramref name="path"/>.</summary>
    /// <exception cref="ModelFormatException">The file is missing, unreadable or not a valid safetensors file.</exception>
    public static SafeTensorsFile Open(string path)
    {
        // Opening a folder fails with UnauthorizedAccessException ("Access to the path is denied"), which hides the cause.
        if (Directory.Exists(path))
            throw new ModelFormatException($"{path} is a folder; give the path of a .safetensors model file, such as {Path.Combine(path, "model.safetensors")}");

        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelFormatException($"model file not found: {path}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ModelFormatException($"{path}: permission denied; make the file readable", e);
        }
        catch (IOException e)
        {
            throw new ModelFormatException($"{path}: cannot open the model file ({e.Message})", e);
        }

        try
        {
            return Open(stream, path, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Validates the header of the safetensors data in <paramref name="stream"/>, which must be seekable and start at position 0.</summary>
    /// <exception cref="ModelFormatException">The content is not a valid safetensors file.</exception>
    public static SafeTensorsFile Open(Stream stream, string displayName, bool leaveOpen = false)
    {
        if (!stream.CanSeek || !stream.CanRead)
            throw new ArgumentException("the stream must be readable and seekable", nameof(stream));

        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new ModelFormatException(
                $"{displayName}: file is {fileLength} bytes, too short for a safetensors file, which starts with an 8-byte header length");
        }

        stream.Position = 0;
        Span<byte> start = stackalloc byte[(int)Math.Min(fileLength, FileSignature.Length)];
        stream.ReadExactly(start);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(start);
        if (FileSignature.Detect(start, fileLength) is { } format && format != FileFormat.SafeTensors)
        {
            throw new ModelFormatException(
                $"{displayName}: this is {FileSignature.Describe(format)}, not a safetensors model file; check which file is the model");
        }
        stream.Position = 8;
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new ModelFormatException(
                $"{displayName}: header length {headerLength} is larger than the {fileLength - 8} bytes that follow it; the file is truncated or not a safetensors file");
        }
        if (headerLength > SafeTensors.MaxHeaderBytes)
        {
            throw new ModelFormatException(
                $"{displayName}: header length {headerLength} exceeds the limit of {SafeTensors.MaxHeaderBytes} bytes; the file is damaged or not a safetensors file");
        }

        // Checked against the file length above, so this allocation is bounded by the file's size.
        var header = new byte[(int)headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        var (tensors, metadata) = SafeTensorsHeader.Parse(header, dataLength, displayName);
        return new SafeTensorsFile(stream, leaveOpen, displayName, dataStart, dataLength, tensors, metadata);
    }

    /// <summary>Finds a tensor by name, or returns null.</summary>
    public SafeTensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Reads <paramref name="tensor"/> as float32, converting F16, BF16 and F64.</summary>
    /// <exception cref="ModelFormatException">The dtype cannot be read as float, or the tensor is too large for one array.</exception>
    public float[] ReadSingles(SafeTensorInfo tensor)
    {
        long count = tensor.ElementCount;
        if (count > Array.MaxLength)
            throw new ModelFormatException($"{DisplayName}: tensor '{tensor.Name}' has {count} elements, more than one array can hold");
        var values = new float[count];
        ReadSingles(tensor, values);
        return values;
    }

    /// <summary>Reads <paramref name="tensor"/> as float32 into <paramref name="destination"/>, which must have exactly its element count.</summary>
    /// <exception cref="ModelFormatException">The dtype cannot be read as float.</exception>
    public void ReadSingles(SafeTensorInfo tensor, Span<float> destination)
    {
        if (!SafeTensors.IsReadableAsSingle(tensor.DType))
        {
            throw new ModelFormatException(
                $"{DisplayName}: tensor '{tensor.Name}' has dtype {SafeTensors.DTypeName(tensor.DType)}, which cannot hold weights; expected F32 (F16, BF16 and F64 are converted)");
        }
        if (destination.Length != tensor.ElementCount)
            throw new ArgumentException($"tensor '{tensor.Name}' has {tensor.ElementCount} elements, the destination {destination.Length}");

        _stream.Position = _dataStart + tensor.Begin;
        switch (tensor.DType)
        {
            case SafeTensorsDType.F32:
                _stream.ReadExactly(MemoryMarshal.AsBytes(destination));
                if (!BitConverter.IsLittleEndian)
                {
                    var bits = MemoryMarshal.Cast<float, int>(destination);
                    BinaryPrimitives.ReverseEndianness(bits, bits);
                }
                break;
            case SafeTensorsDType.F16:
                ConvertChunked(destination, 2, (bytes, i) => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]));
                break;
            case SafeTensorsDType.BF16:
                // A bfloat16 is the upper half of a float32.
                ConvertChunked(destination, 2, (bytes, i) => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16));
                break;
            case SafeTensorsDType.F64:
                ConvertChunked(destination, 8, (bytes, i) => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]));
                break;
        }
    }

    private delegate float ElementReader(ReadOnlySpan<byte> bytes, int index);

    private void ConvertChunked(Span<float> destination, int elementSize, ElementReader read)
    {
        const int ChunkElements = 4096;
        var buffer = new byte[ChunkElements * elementSize];
        for (int start = 0; start < destination.Length; start += ChunkElements)
        {
            int n = Math.Min(ChunkElements, destination.Length - start);
            var bytes = buffer.AsSpan(0, n * elementSize);
            _stream.ReadExactly(bytes);
            for (int i = 0; i < n; i++) destination[start + i] = read(bytes, i);
        }
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }
}

/// <summary>Parses and validates the JSON header of a safetensors file.</summary>
internal static class SafeTensorsHeader
{
    public static (List<SafeTensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(byte[] header, long dataLength, string file)
    {
        // A header that does not start with '{' cannot be a JSON object; rejecting it here gives a clearer message.
        if (header.Length == 0 || header[0] != (byte)'{')
        {
            string found = header.Length == 0 ? "an empty header" : $"byte 0x{header[0]:X2}";
            throw new ModelFormatException($"{file}: the JSON header must start with '{{', found {found}; the file is not a safetensors file");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(
                $"{file}: the header is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}); the file is damaged or not a safetensors file", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{file}: the header must be a JSON object, found {root.ValueKind}");

            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new ModelFormatException($"{file}: the header names '{property.Name}' twice; names must be unique");
                if (property.Name == SafeTensors.MetadataKey)
                    ReadMetadata(property.Value, metadata, file);
                else
                    tensors.Add(ReadTensor(property.Name, property.Value, dataLength, file));
            }

            CheckLayout(tensors, dataLength, file);
            return (tensors, metadata);
        }
    }

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string file)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{file}: {SafeTensors.MetadataKey} must be an object of strings, found {element.ValueKind}");
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new ModelFormatException($"{file}: {SafeTensors.MetadataKey} key '{entry.Name}' must be a string, found {entry.Value.ValueKind}");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new ModelFormatException($"{file}: {SafeTensors.MetadataKey} names '{entry.Name}' twice; keys must be unique");
        }
    }

    private static SafeTensorInfo ReadTensor(string name, JsonElement entry, long dataLength, string file)
    {
        string where = $"{file}: tensor '{name}'";
        if (entry.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{where}: expected an object with dtype, shape and data_offsets, found {entry.ValueKind}");

        if (!entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new ModelFormatException($"{where}: missing string key \"dtype\"");
        string dtypeName = dtypeElement.GetString()!;
        if (!SafeTensors.TryParseDType(dtypeName, out var dtype))
            throw new ModelFormatException($"{where}: unknown dtype '{dtypeName}'; expected one of {SafeTensors.KnownDTypeNames}");

        if (!entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new ModelFormatException($"{where}: missing array key \"shape\"");
        var shape = new List<long>();
        foreach (var item in shapeElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long dimension) || dimension < 0)
                throw new ModelFormatException($"{where}: shape entry {item.GetRawText()} is not a non-negative integer");
            shape.Add(dimension);
        }

        if (!entry.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
            throw new ModelFormatException($"{where}: missing key \"data_offsets\" of the form [begin, end]");
        var begin = ReadOffset(offsetsElement[0], where);
        var end = ReadOffset(offsetsElement[1], where);
        if (begin > end)
            throw new ModelFormatException($"{where}: data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
        {
            throw new ModelFormatException(
                $"{where}: data_offsets [{begin}, {end}] reach past the end of the {dataLength}-byte data section; the file is truncated or damaged");
        }

        long expectedBytes;
        try
        {
            long elements = shape.Aggregate(1L, (product, dimension) => checked(product * dimension));
            expectedBytes = checked(elements * SafeTensors.ElementSize(dtype));
        }
        catch (OverflowException)
        {
            throw new ModelFormatException($"{where}: shape [{string.Join(", ", shape)}] is too large to address");
        }
        if (expectedBytes != end - begin)
        {
            throw new ModelFormatException(
                $"{where}: shape [{string.Join(", ", shape)}] of dtype {dtypeName} needs {expectedBytes} bytes, but data_offsets [{begin}, {end}] cover {end - begin}");
        }

        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static long ReadOffset(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long offset) || offset < 0)
            throw new ModelFormatException($"{where}: data offset {element.GetRawText()} is not a non-negative integer");
        return offset;
    }

    /// <summary>
    /// Checks that the tensors cover the data section exactly once. The format forbids holes and
    /// overlaps, so that a file cannot hide extra content or alias two tensors.
    /// </summary>
    private static void CheckLayout(List<SafeTensorInfo> tensors, long dataLength, string file)
    {
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));

        long expected = 0;
        SafeTensorInfo? previous = null;
        foreach (var tensor in tensors)
        {
            if (tensor.Begin < expected)
            {
                throw new ModelFormatException(
                    $"{file}: tensor '{tensor.Name}' at data_offsets [{tensor.Begin}, {tensor.End}] overlaps tensor '{previous!.Name}' at [{previous.Begin}, {previous.End}]");
            }
            if (tensor.Begin > expected)
            {
                throw new ModelFormatException(
                    $"{file}: data bytes {expected}..{tensor.Begin} before tensor '{tensor.Name}' belong to no tensor; the format allows no gaps");
            }
            expected = tensor.End;
            previous = tensor;
        }
        if (expected != dataLength)
        {
            throw new ModelFormatException(
                $"{file}: the tensors cover {expected} bytes but the data section has {dataLength}; the trailing {dataLength - expected} bytes belong to no tensor");
        }
    }
}
