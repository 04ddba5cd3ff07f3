using SkiaSharp;

namespace DigitNet.Cli.Plotting;

/// <summary>Encodes a drawing as PNG and writes it atomically.</summary>
public static class PngFile
{
    /// <summary>
    /// Creates a white <paramref name="width"/> x <paramref name="height"/> canvas, lets
    /// <paramref name="draw"/> paint it, and returns the PNG bytes.
    /// </summary>
    public static byte[] Render(int width, int height, Action<SKCanvas> draw)
    {
        if (width < 1 || height < 1)
            throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}x{height}");
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info)
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {width}x{height} surface");
        surface.Canvas.Clear(SKColors.White);
        draw(surface.Canvas);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Writes <paramref name="png"/> to <paramref name="path"/> through a temporary file.</summary>
    public static void Write(string path, byte[] png) => AtomicFile.Write(path, stream => stream.Write(png));
}
