using System.Buffers.Binary;
using System.IO.Compression;
using DigitNet.Tensors;

namespace DigitNet.Data.Formats;

/// <summary>An unsigned-byte IDX array: its dimensions and its values, row-major.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Data);

/// <summary>
/// Reader for IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed
/// (detected by the gzip magic bytes 1F 8B).
/// </summary>
/// <remarks>
/// An IDX file is a big-endian int32 magic number <c>0x000008DD</c>, where 08 means unsigned
/// bytes and DD is the number of dimensions, then DD big-endian int32 dimensions, then the values
/// row-major. Images are <c>0x00000803</c> (count, rows, cols) and labels <c>0x00000801</c> (count).
/// Only the unsigned-byte type is supported.
/// </remarks>
public static class Idx
{
    private const byte UnsignedByteType = 0x08;
    private const int MaxRank = 16;

    /// <summary>Class names of MNIST digits in label order.</summary>
    private static readonly IReadOnlyList<string> DigitClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Reads an IDX file, plain or gzip-compressed.</summary>
    /// <exception cref="DataFormatException">The file is missing, not an unsigned-byte IDX file, truncated, damaged or longer than its dimensions require.</exception>
    public static IdxArray Read(string path)
    {
        using var stream = DataFile.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>
    /// Reads an IDX array from <paramref name="stream"/>, plain or gzip-compressed;
    /// <paramref name="displayName"/> names the source in error messages.
    /// </summary>
    /// <exception cref="DataFormatException">The content is not an unsigned-byte IDX file, or it is truncated, damaged or longer than its dimensions require.</exception>
    public static IdxArray Read(Stream stream, string displayName)
    {
        byte[] bytes = DataFile.ReadToEnd(stream, displayName);
        bool gzip = bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B;
        if (!gzip)
            return Parse(new MemoryStream(bytes, writable: false), bytes.Length, displayName, compressed: false);

        try
        {
            using var input = new MemoryStream(bytes, writable: false);
            using var unzipped = new GZipStream(input, CompressionMode.Decompress);
            return Parse(unzipped, bytes.Length * DataFile.MaxDeflateRatio, displayName, compressed: true);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{displayName}: corrupt gzip data ({e.Message}); the file is damaged, download or copy it again", e);
        }
    }

    /// <summary>
    /// Parses the IDX content of <paramref name="stream"/>. <paramref name="maxLength"/> is the
    /// most bytes the content can have: the file length, or the inflation bound for gzip.
    /// </summary>
    private static IdxArray Parse(Stream stream, long maxLength, string file, bool compressed)
    {
        string damaged = compressed ? "the file is damaged or truncated" : "the file is truncated";
        var header = new GrowingBuffer();
        if (!header.FillFrom(stream, 4))
            throw new DataFormatException($"{file}: not an IDX file: it has {header.Length} bytes, fewer than the 4-byte magic number");

        byte[] magic = header.Buffer[..4];
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new DataFormatException(
                $"{file}: not an IDX file: the magic number starts with {magic[0]:X2} {magic[1]:X2}, expected 00 00; check the path");
        }
        if (magic[2] != UnsignedByteType)
        {
            throw new DataFormatException(
                $"{file}: IDX value type 0x{magic[2]:X2} is not supported; only unsigned bytes (0x08) are, as in MNIST");
        }
        int rank = magic[3];
        if (rank is 0 or > MaxRank)
            throw new DataFormatException($"{file}: IDX magic number declares {rank} dimensions; expected 1 to {MaxRank}");

        if (!header.FillFrom(stream, 4 + 4 * rank))
            throw new DataFormatException($"{file}: truncated IDX header: {rank} dimensions need {4 + 4 * rank} bytes, found {header.Length}; {damaged}");

        var dimensions = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(header.Buffer.AsSpan(4 + 4 * i));
            if (dimensions[i] < 0)
                throw new DataFormatException($"{file}: IDX dimension {i} is {dimensions[i]}; dimensions cannot be negative");
            // Saturate: any count above Array.MaxLength is rejected below anyway.
            count = Math.Min(count * dimensions[i], (long)Array.MaxLength + 1);
        }

        long available = maxLength - header.Length;
        if (count > available || count > Array.MaxLength)
        {
            string limit = compressed
                ? $"more than the {maxLength / DataFile.MaxDeflateRatio} bytes of gzip data can hold"
                : $"but only {available} bytes follow the header";
            throw new DataFormatException(
                $"{file}: IDX dimensions [{string.Join(", ", dimensions)}] need {count} bytes of data, {limit}; {damaged}");
        }

        var data = new GrowingBuffer();
        if (!data.FillFrom(stream, (int)count))
        {
            throw new DataFormatException(
                $"{file}: truncated IDX data: dimensions [{string.Join(", ", dimensions)}] need {count} bytes, found {data.Length}; {damaged}");
        }
        if (stream.ReadByte() >= 0)
        {
            throw new DataFormatException(
                $"{file}: the IDX data is longer than dimensions [{string.Join(", ", dimensions)}] say ({count} bytes); the file is damaged or not an IDX file");
        }

        byte[] values = data.Buffer.Length == data.Length ? data.Buffer : data.Buffer[..data.Length];
        return new IdxArray(dimensions, values);
    }

    /// <summary>
    /// Reads an IDX image file and its label file (MNIST layout) into a data set with sample
    /// shape <c>[1, rows, cols]</c>, raw pixel values 0..255 as floats and class names "0".."9".
    /// </summary>
    /// <exception cref="DataFormatException">
    /// Either file cannot be read, the images are not N x rows x cols, the labels are not N
    /// values, the counts differ, or a label is above 9.
    /// </exception>
    public static Dataset ReadDataset(string imagesPath, string labelsPath, string name)
    {
        var images = Read(imagesPath);
        var labels = Read(labelsPath);

        if (images.Dimensions.Length != 3)
        {
            throw new DataFormatException(
                $"{imagesPath}: an image file must have 3 dimensions (count, rows, cols), found [{string.Join(", ", images.Dimensions)}]; is this a label file?");
        }
        if (labels.Dimensions.Length != 1)
        {
            throw new DataFormatException(
                $"{labelsPath}: a label file must have 1 dimension (count), found [{string.Join(", ", labels.Dimensions)}]; is this an image file?");
        }

        int count = images.Dimensions[0];
        if (labels.Dimensions[0] != count)
            throw new DataFormatException($"{labelsPath}: {labels.Dimensions[0]} labels, but {imagesPath} has {count} images; they must match");

        int badLabel = Array.FindIndex(labels.Data, label => label >= DigitClassNames.Count);
        if (badLabel >= 0)
            throw new DataFormatException($"{labelsPath}: label {labels.Data[badLabel]} at index {badLabel} is outside 0..9");

        var features = new float[images.Data.Length];
        for (int i = 0; i < features.Length; i++)
            features[i] = images.Data[i];

        var shape = new TensorShape(1, images.Dimensions[1], images.Dimensions[2]);
        return new Dataset(name, shape, features, labels.Data, DigitClassNames);
    }
}
