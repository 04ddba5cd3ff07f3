using DigitNet.Data;
using DigitNet.Data.Formats;
using SkiaSharp;

namespace DigitNet.Cli.Imaging;

/// <summary>A decoded image as row-major luminance, 0 black to 255 white.</summary>
public sealed record GrayImage(int Width, int Height, float[] Pixels);

/// <summary>
/// Reads PNG, JPEG, BMP, GIF and WebP files with SkiaSharp and turns them into network input
/// framed like the digits.mat samples (see <see cref="DigitFraming"/>).
/// </summary>
public static class DigitImage
{
    /// <summary>
    /// Largest pixel count accepted, checked on the size that the file declares before any pixel
    /// is decoded. 50 million pixels take 200 MB as RGBA.
    /// </summary>
    public const long MaxPixels = 50_000_000;

    /// <summary>Pixel count above which a codec that can decode at a reduced size (JPEG) is asked to.</summary>
    private const long ReducedDecodePixels = 4_000_000;

    /// <summary>Returns the usual written name of an image format, such as PNG or WebP.</summary>
    private static string FormatName(SKEncodedImageFormat format) =>
        format == SKEncodedImageFormat.Webp ? "WebP" : format.ToString().ToUpperInvariant();

    private static readonly SKEncodedImageFormat[] Formats =
        [SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Bmp, SKEncodedImageFormat.Gif, SKEncodedImageFormat.Webp];

    /// <summary>Decodes <paramref name="path"/> and frames it into a <paramref name="size"/> x <paramref name="size"/> input of ink values 0..255.</summary>
    /// <exception cref="DataFormatException">The file is missing, a folder, not a supported image, truncated or damaged, too large, or blank.</exception>
    public static float[] LoadFramed(string path, int size)
    {
        var image = Decode(path);
        try
        {
            return DigitFraming.Frame(image.Pixels, image.Width, image.Height, size);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Decodes <paramref name="path"/> to luminance (ITU-R BT.601 weights), upright as its EXIF
    /// orientation says, with transparent pixels composited over white.
    /// </summary>
    /// <exception cref="DataFormatException">The file is missing, a folder, not a supported image, truncated or damaged, or declares more than <see cref="MaxPixels"/> pixels.</exception>
    public static GrayImage Decode(string path)
    {
        if (path.Length == 0)
            throw new DataFormatException("an image path is empty; give the path of an image file");
        if (Directory.Exists(path))
            throw new DataFormatException($"{path} is a folder; give the image files in it, such as {Path.Combine(path, "digit.png")}");
        if (FileChecks.FindInputProblem("image", path, "a PNG, JPEG, BMP, GIF or WebP image") is { } problem)
            throw new DataFormatException(problem);

        // The codec reads the file on demand, so a large non-image file is never loaded whole.
        using var codec = SKCodec.Create(path, out var openResult);
        if (codec is null || Array.IndexOf(Formats, codec.EncodedFormat) < 0)
            throw Unsupported(path, codec?.EncodedFormat, openResult);

        // The header's size is checked before any pixel is decoded, so a small file that declares
        // a huge image cannot exhaust memory.
        var declared = codec.Info;
        long pixels = (long)declared.Width * declared.Height;
        if (declared.Width < 1 || declared.Height < 1 || pixels > MaxPixels)
        {
            throw new DataFormatException(
                $"{path}: declares {declared.Width}x{declared.Height} pixels; the limit is {MaxPixels:N0} pixels, so scale the image down first");
        }

        var size = declared.Size;
        if (pixels > ReducedDecodePixels)
            size = codec.GetScaledDimensions((float)Math.Sqrt((double)ReducedDecodePixels / pixels));

        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        // IncompleteInput means the file ended before the last pixel row: the rows after that point
        // are left blank, and a prediction on the part that was decoded would be misleading.
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.IncompleteInput)
            throw Damaged(path, $"the {FormatName(codec.EncodedFormat)} data ends before the last pixel row");
        if (result != SKCodecResult.Success)
            throw Damaged(path, $"the {FormatName(codec.EncodedFormat)} pixel data is invalid ({result})");

        var gray = ToGray(bitmap.GetPixelSpan(), size.Width, size.Height);
        return Orient(gray, codec.EncodedOrigin);
    }

    /// <summary>
    /// Returns the error for a file that the decoder cannot open (<paramref name="decoded"/> is null)
    /// or that is in an image format other than PNG, JPEG, BMP, GIF and WebP. The message names, in
    /// this order, a damaged header of a supported image, a format that <see cref="FileSignature"/>
    /// recognises (a model or data set given in place of an image), or the image format found.
    /// </summary>
    /// <remarks>
    /// <see cref="FileSignature"/> comes before the decoder's format because SkiaSharp takes a file
    /// that starts with two zero bytes, such as an IDX file, for a WBMP image.
    /// </remarks>
    private static DataFormatException Unsupported(string path, SKEncodedImageFormat? decoded, SKCodecResult openResult)
    {
        const string Expected = "expected a PNG, JPEG, BMP, GIF or WebP file";
        var (start, fileLength) = ReadStart(path);
        if (decoded is null && SniffImageFormat(start) is { } sniffed)
        {
            return Damaged(path, openResult == SKCodecResult.IncompleteInput
                ? $"the file ends inside the {sniffed} header"
                : $"the {sniffed} header is invalid");
        }
        if (FileSignature.Detect(start, fileLength) is { } format)
            return new($"{path}: this is {FileSignature.Describe(format)}, not an image; {Expected}");
        string found = decoded is { } imageFormat ? $"a {FormatName(imageFormat)} image" : "not a recognised image";
        return new($"{path}: {found}; {Expected}");
    }

    private static DataFormatException Damaged(string path, string detail) =>
        new($"{path}: the image is truncated or damaged ({detail}); copy or export the file again");

    /// <summary>Returns the first <see cref="FileSignature.Length"/> bytes of the file, or fewer for a shorter file, and its length.</summary>
    private static (byte[] Bytes, long FileLength) ReadStart(string path)
    {
        var start = new byte[FileSignature.Length];
        using var stream = File.OpenRead(path);
        int length = stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        return (start[..length], stream.CanSeek ? stream.Length : length);
    }

    /// <summary>Returns the image format whose signature <paramref name="head"/>, the first bytes of a file, starts with, or null.</summary>
    private static string? SniffImageFormat(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((byte[])[0x89, (byte)'P', (byte)'N', (byte)'G'])) return "PNG";
        if (head.StartsWith((byte[])[0xFF, 0xD8, 0xFF])) return "JPEG";
        if (head.StartsWith("GIF8"u8)) return "GIF";
        if (head.StartsWith("RIFF"u8) && head.Length >= 12 && head[8..12].SequenceEqual("WEBP"u8)) return "WebP";
        if (head.StartsWith("BM"u8) && head.Length >= 6) return "BMP";
        return null;
    }

    private static GrayImage ToGray(ReadOnlySpan<byte> rgba, int width, int height)
    {
        var gray = new float[width * height];
        for (int i = 0; i < gray.Length; i++)
        {
            float r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
            float alpha = rgba[4 * i + 3] / 255f;
            float luminance = 0.299f * r + 0.587f * g + 0.114f * b;
            gray[i] = alpha * luminance + (1 - alpha) * 255f;
        }
        return new GrayImage(width, height, gray);
    }

    /// <summary>Applies the EXIF orientation, so that the image is upright as a viewer would show it.</summary>
    private static GrayImage Orient(GrayImage image, SKEncodedOrigin origin)
    {
        int w = image.Width, h = image.Height;
        var source = image.Pixels;
        bool swapsSides = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        if (origin == SKEncodedOrigin.TopLeft) return image;

        int outWidth = swapsSides ? h : w;
        int outHeight = swapsSides ? w : h;
        var result = new float[source.Length];
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                // (sx, sy) is the stored pixel shown at (x, y).
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                result[y * outWidth + x] = source[sy * w + sx];
            }
        }
        return new GrayImage(outWidth, outHeight, result);
    }
}
