using SkiaSharp;

namespace DigitNet.Cli.Plotting;

/// <summary>
/// Small grayscale images in rows and columns, each with a caption below it; made for galleries
/// of misclassified digits and of augmented samples. Each image is scaled up by whole pixels
/// (nearest neighbour) so single pixels stay visible.
/// </summary>
public sealed class ImageGrid
{
    private const float Padding = 10;
    private const float CaptionHeight = 18;

    private readonly List<(float[] Pixels, int Width, int Height, string Caption, bool Highlight)> _images = [];

    public string Title { get; init; } = "";

    /// <summary>Images per row.</summary>
    public int Columns { get; init; } = 10;

    /// <summary>Output pixels per image pixel.</summary>
    public int Scale { get; init; } = 4;

    /// <summary>
    /// Pixel values drawn white and black. Null stretches each image from its own minimum (white)
    /// to its maximum (black), so raw 0..255 digits and standardised ones both show full contrast.
    /// </summary>
    public (float White, float Black)? ValueRange { get; init; }

    public int Count => _images.Count;

    /// <summary>
    /// Adds an image of <paramref name="width"/> x <paramref name="height"/> row-major pixels.
    /// A highlighted caption is drawn in red (for example a wrong prediction).
    /// </summary>
    public ImageGrid Add(ReadOnlySpan<float> pixels, int width, int height, string caption, bool highlight = false)
    {
        if (width < 1 || height < 1 || pixels.Length != width * height)
            throw new ArgumentException($"image '{caption}': {pixels.Length} pixels do not make a {width}x{height} image");
        _images.Add((pixels.ToArray(), width, height, caption, highlight));
        return this;
    }

    /// <summary>Draws the grid and returns PNG bytes.</summary>
    public byte[] RenderPng()
    {
        if (_images.Count == 0) throw new InvalidOperationException("image grid is empty; add at least one image");
        if (Columns < 1 || Scale < 1) throw new InvalidOperationException($"image grid needs Columns >= 1 and Scale >= 1, got {Columns} and {Scale}");
        var (cellWidth, cellHeight, top) = Layout();
        int columns = Math.Min(Columns, _images.Count);
        int rows = (_images.Count + Columns - 1) / Columns;
        int width = (int)Math.Ceiling(Padding * 2 + columns * cellWidth);
        if (Title.Length > 0)
        {
            using var titleFont = PlotText.Font(16);
            width = Math.Max(width, (int)Math.Ceiling(PlotText.Measure(titleFont, Title) + Padding * 2));
        }
        int height = (int)Math.Ceiling(top + rows * cellHeight + Padding);
        return PngFile.Render(width, height, canvas => Draw(canvas, cellWidth, cellHeight, top));
    }

    /// <summary>Draws the grid into a PNG file.</summary>
    public void SavePng(string path) => PngFile.Write(path, RenderPng());

    private (float CellWidth, float CellHeight, float Top) Layout()
    {
        using var captionFont = PlotText.Font(12);
        int imageWidth = _images.Max(i => i.Width) * Scale;
        int imageHeight = _images.Max(i => i.Height) * Scale;
        float captionWidth = _images.Max(i => PlotText.Measure(captionFont, i.Caption));
        float cellWidth = Math.Max(imageWidth, captionWidth) + 8;
        float cellHeight = imageHeight + CaptionHeight + 8;
        float top = Padding + (Title.Length > 0 ? 26 : 0);
        return (cellWidth, cellHeight, top);
    }

    private void Draw(SKCanvas canvas, float cellWidth, float cellHeight, float top)
    {
        using var titleFont = PlotText.Font(16);
        using var captionFont = PlotText.Font(12);
        if (Title.Length > 0) PlotText.Draw(canvas, Title, Padding, Padding + 16, titleFont, PlotColors.Text);

        for (int n = 0; n < _images.Count; n++)
        {
            var (pixels, width, height, caption, highlight) = _images[n];
            float x0 = Padding + (n % Columns) * cellWidth + (cellWidth - width * Scale) / 2;
            float y0 = top + (n / Columns) * cellHeight;
            var (white, black) = ValueRange ?? (pixels.Min(), pixels.Max());
            float span = black != white ? black - white : 1;

            using var bitmap = new SKBitmap(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
            for (int r = 0; r < height; r++)
            {
                for (int c = 0; c < width; c++)
                {
                    float t = Math.Clamp((pixels[r * width + c] - white) / span, 0, 1);
                    // Ink is dark on a white page, as digits are usually shown.
                    byte gray = (byte)Math.Round(255 * (1 - t));
                    bitmap.SetPixel(c, r, new SKColor(gray, gray, gray));
                }
            }
            var destination = new SKRect(x0, y0, x0 + width * Scale, y0 + height * Scale);
            using var image = SKImage.FromBitmap(bitmap);
            canvas.DrawImage(image, destination, new SKSamplingOptions(SKFilterMode.Nearest));
            using var framePaint = new SKPaint { Color = highlight ? PlotColors.Highlight : PlotColors.Grid, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
            canvas.DrawRect(destination, framePaint);

            var captionColor = highlight ? PlotColors.Highlight : PlotColors.Text;
            PlotText.Draw(canvas, caption, x0 + width * Scale / 2f, y0 + height * Scale + CaptionHeight - 3, captionFont, captionColor, SKTextAlign.Center);
        }
    }
}
