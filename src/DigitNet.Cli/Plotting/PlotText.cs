using SkiaSharp;

namespace DigitNet.Cli.Plotting;

/// <summary>
/// Text drawing for plots with the embedded DejaVu Sans typeface. The typeface is loaded from the
/// assembly, not from the system, because the NoDependencies build of SkiaSharp has no fontconfig:
/// on a bare machine <c>SKTypeface.Default</c> may have no glyphs and every label would vanish.
/// </summary>
public static class PlotText
{
    private const string ResourceName = "DigitNet.Cli.Plotting.DejaVuSans.ttf";

    private static readonly Lazy<SKTypeface> Face = new(LoadTypeface);

    /// <summary>The embedded typeface.</summary>
    public static SKTypeface Typeface => Face.Value;

    /// <summary>Creates a font of <paramref name="size"/> pixels with anti-aliased, subpixel-positioned glyphs.</summary>
    public static SKFont Font(float size) => new(Typeface, size) { Edging = SKFontEdging.Antialias, Subpixel = true };

    /// <summary>Width of <paramref name="text"/> in pixels.</summary>
    public static float Measure(SKFont font, string text) => font.MeasureText(text);

    /// <summary>
    /// Draws <paramref name="text"/> with its baseline at <paramref name="y"/>, aligned on
    /// <paramref name="x"/> as <paramref name="align"/> says.
    /// </summary>
    public static void Draw(SKCanvas canvas, string text, float x, float y, SKFont font, SKColor color, SKTextAlign align = SKTextAlign.Left)
    {
        using var paint = new SKPaint { Color = color, IsAntialias = true };
        canvas.DrawText(text, x, y, align, font, paint);
    }

    /// <summary>Draws <paramref name="text"/> rotated by <paramref name="degrees"/> (clockwise) around (x, y).</summary>
    public static void DrawRotated(SKCanvas canvas, string text, float x, float y, float degrees, SKFont font, SKColor color, SKTextAlign align = SKTextAlign.Center)
    {
        canvas.Save();
        canvas.RotateDegrees(degrees, x, y);
        Draw(canvas, text, x, y, font, color, align);
        canvas.Restore();
    }

    /// <summary>Height of capital letters, for centring text vertically.</summary>
    public static float CapHeight(SKFont font) => font.Metrics.CapHeight > 0 ? font.Metrics.CapHeight : font.Size * 0.72f;

    private static SKTypeface LoadTypeface()
    {
        using var stream = typeof(PlotText).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded font {ResourceName} is missing from {typeof(PlotText).Assembly.GetName().Name}; check the EmbeddedResource item in DigitNet.Cli.csproj");
        using var data = SKData.Create(stream);
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"embedded font {ResourceName} could not be read by SkiaSharp");
    }
}
