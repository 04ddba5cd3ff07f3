using System.Runtime.InteropServices;
using System.Text;

namespace DigitNet.Benchmarks;

/// <summary>
/// Writes NumPy <c>.npy</c> files (format version 1.0, C order), so the PyTorch script reads
/// exactly the values DigitNet trains on with <c>numpy.load</c>.
/// </summary>
internal static class NpyFile
{
    public static void Write(string path, ReadOnlySpan<float> values, params int[] shape) =>
        Write(path, "<f4", MemoryMarshal.AsBytes(values), values.Length, shape);

    public static void Write(string path, ReadOnlySpan<double> values, params int[] shape) =>
        Write(path, "<f8", MemoryMarshal.AsBytes(values), values.Length, shape);

    public static void Write(string path, ReadOnlySpan<int> values, params int[] shape) =>
        Write(path, "<i4", MemoryMarshal.AsBytes(values), values.Length, shape);

    public static void Write(string path, ReadOnlySpan<byte> values, params int[] shape) =>
        Write(path, "|u1", values, values.Length, shape);

    private static void Write(string path, string type, ReadOnlySpan<byte> bytes, int count, int[] shape)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("NpyFile writes little-endian types and needs a little-endian machine");
        long expected = shape.Aggregate(1L, (product, dimension) => product * dimension);
        if (expected != count)
            throw new ArgumentException($"{path}: shape ({string.Join(", ", shape)}) holds {expected} values, got {count}");

        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        string header = $"{{'descr': '{type}', 'fortran_order': False, 'shape': {shapeText}, }}";

        // Magic (6 bytes), version (2), header length (2), then the header padded with spaces and
        // ended by a newline so that the data starts on a 64-byte boundary.
        const int PreambleLength = 10;
        int padding = 63 - (PreambleLength + header.Length) % 64;
        header += new string(' ', padding) + "\n";

        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(bytes);
    }
}
