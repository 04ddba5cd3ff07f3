using System.Buffers.Binary;

namespace DigitNet.Data.Formats;

/// <summary>File formats that <see cref="FileSignature"/> recognises.</summary>
public enum FileFormat { Png, Hdf5, Mat, Gzip, Idx, SafeTensors, Text }

/// <summary>
/// Recognises the format of a file from its first bytes, for the messages of a reader that was given
/// a file of another format: an image in place of a data set, a data set in place of a model or
/// of an image.
/// </summary>
public static class FileSignature
{
    /// <summary>Number of bytes that <see cref="Detect"/> looks at. Fewer are enough for most formats.</summary>
    public const int Length = 16;

    private static ReadOnlySpan<byte> Png => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static ReadOnlySpan<byte> Hdf5 => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// Returns the format that <paramref name="start"/> (the first bytes of a file, up to
    /// <see cref="Length"/>) begins, or null when the bytes match none of <see cref="FileFormat"/>.
    /// <paramref name="fileLength"/> checks the header length that a safetensors file starts with.
    /// </summary>
    public static FileFormat? Detect(ReadOnlySpan<byte> start, long fileLength)
    {
        if (start.StartsWith(Png))
            return FileFormat.Png;
        if (start.StartsWith(Hdf5))
            return FileFormat.Hdf5;
        if (start.StartsWith("MATLAB"u8))
            return FileFormat.Mat;
        if (start.Length >= 2 && start[0] == 0x1F && start[1] == 0x8B)
            return FileFormat.Gzip;
        if (start.Length >= 4 && start[0] == 0 && start[1] == 0 && start[2] == 0x08 && start[3] is 1 or 3)
            return FileFormat.Idx;
        if (LooksLikeSafeTensors(start, fileLength))
            return FileFormat.SafeTensors;
        if (start.Length >= 8 && IsText(start))
            return FileFormat.Text;
        return null;
    }

    /// <summary>Returns the article and name of <paramref name="format"/> for messages, such as "a PNG image".</summary>
    public static string Describe(FileFormat format) => format switch
    {
        FileFormat.Png => "a PNG image",
        FileFormat.Hdf5 => "an HDF5 file",
        FileFormat.Mat => "a MAT-file (a data set)",
        FileFormat.Gzip => "a gzip file",
        FileFormat.Idx => "an IDX file (MNIST images or labels)",
        FileFormat.SafeTensors => "a safetensors model file",
        _ => "a text file",
    };

    /// <summary>Returns whether the bytes are a little-endian 64-bit header length that fits in the file, then a JSON header that starts with '{'.</summary>
    private static bool LooksLikeSafeTensors(ReadOnlySpan<byte> start, long fileLength)
    {
        if (start.Length < 9 || start[8] != (byte)'{')
            return false;
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(start);
        return headerLength >= 2 && headerLength <= (ulong)(fileLength - 8);
    }

    /// <summary>Returns whether every byte is printable ASCII, a tab or a line break.</summary>
    private static bool IsText(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (b is not ((>= 0x20 and < 0x7F) or (byte)'\t' or (byte)'\n' or (byte)'\r'))
                return false;
        }
        return true;
    }
}
