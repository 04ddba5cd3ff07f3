namespace DigitNet.Data.Formats;

/// <summary>
/// File access shared by the readers: opening with errors mapped to
/// <see cref="DataFormatException"/>, and bounded reads that allocate only for bytes that exist.
/// </summary>
internal static class DataFile
{
    /// <summary>
    /// Maximum ratio of inflated to deflated size. The longest deflate match, 258 bytes, costs at
    /// least 2 bits (1-bit length and distance codes), so deflate data inflates at most
    /// 258 * 8 / 2 = 1032 times. A declared size above that means a damaged file.
    /// </summary>
    public const long MaxDeflateRatio = 1032;

    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <exception cref="DataFormatException">The file is missing or cannot be opened.</exception>
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataFormatException($"{path}: file not found (full path {Path.GetFullPath(path)}); check the path", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataFormatException($"{path}: permission denied; make the file readable", e);
        }
        catch (IOException e)
        {
            throw new DataFormatException($"{path}: cannot open the file: {e.Message}", e);
        }
    }

    /// <summary>Reads the rest of <paramref name="stream"/> into one array.</summary>
    /// <exception cref="DataFormatException">The content exceeds the largest .NET array or a read fails.</exception>
    public static byte[] ReadToEnd(Stream stream, string displayName)
    {
        try
        {
            if (stream.CanSeek)
            {
                long length = stream.Length - stream.Position;
                if (length > Array.MaxLength)
                    throw new DataFormatException($"{displayName}: the file has {length} bytes; files over {Array.MaxLength} bytes are not supported");
                var bytes = new byte[length];
                stream.ReadExactly(bytes);
                return bytes;
            }

            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException($"{displayName}: the file became shorter while it was read; read it again", e);
        }
        catch (IOException e)
        {
            throw new DataFormatException($"{displayName}: reading the file failed: {e.Message}", e);
        }
    }
}

/// <summary>
/// A byte buffer filled from a stream up to a declared length. It grows as data arrives, so a
/// header that declares far more bytes than the stream contains costs memory only for what exists.
/// After an exception, <see cref="Buffer"/> and <see cref="Length"/> still describe the bytes read.
/// </summary>
internal sealed class GrowingBuffer
{
    private const int InitialCapacity = 1 << 16;

    public byte[] Buffer { get; private set; } = [];

    public int Length { get; private set; }

    /// <summary>
    /// Reads from <paramref name="stream"/> until the buffer contains <paramref name="count"/>
    /// bytes or the stream ends. Returns whether all <paramref name="count"/> bytes arrived.
    /// </summary>
    public bool FillFrom(Stream stream, int count)
    {
        while (Length < count)
        {
            if (Length == Buffer.Length)
            {
                int capacity = (int)Math.Min(count, Math.Max(InitialCapacity, 2L * Buffer.Length));
                var larger = new byte[capacity];
                Buffer.AsSpan(0, Length).CopyTo(larger);
                Buffer = larger;
            }

            int read = stream.Read(Buffer, Length, Math.Min(Buffer.Length, count) - Length);
            if (read == 0)
                return false;
            Length += read;
        }
        return true;
    }
}
