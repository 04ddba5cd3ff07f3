using SkiaSharp;

namespace DigitNet.Cli.Plotting;

/// <summary>One line of a <see cref="LineChart"/>: points (x, y), optionally with a symmetric error bar each.</summary>
public sealed class LineSeries
{
    public LineSeries(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<double>? errors = null)
    {
        if (x.Count != y.Count)
            throw new ArgumentException($"series '{name}': {x.Count} x values but {y.Count} y values");
        if (errors is not null && errors.Count != y.Count)
            throw new ArgumentException($"series '{name}': {errors.Count} error values for {y.Count} points");
        Name = name;
        X = x;
        Y = y;
        Errors = errors;
    }

    /// <summary>Legend entry; an empty name leaves the series out of the legend.</summary>
    public string Name { get; }

    public IReadOnlyList<double> X { get; }

    public IReadOnlyList<double> Y { get; }

    /// <summary>Half-length of the error bar at each point (for example one standard deviation); null for none.</summary>
    public IReadOnlyList<double>? Errors { get; }

    /// <summary>Line colour; null takes the next palette colour.</summary>
    public SKColor? Color { get; init; }

    public bool Dashed { get; init; }

    /// <summary>Whether to draw a dot at each point.</summary>
    public bool Markers { get; init; } = true;

    /// <summary>Whether to join the points with a line; false draws markers only.</summary>
    public bool Line { get; init; } = true;
}

/// <summary>
/// A line chart with a numeric or categorical x axis, round-number ticks, grid lines, axis labels,
/// a legend to the right of the plot and optional error bars. Points whose y is NaN are skipped and
/// break the line.
/// </summary>
public sealed class LineChart
{
    private const float TickLength = 5;
    private const float Padding = 12;

    private readonly List<LineSeries> _series = [];

    public string Title { get; init; } = "";
    public string XLabel { get; init; } = "";
    public string YLabel { get; init; } = "";

    /// <summary>
    /// Labels of a categorical x axis: category i sits at x = i. When set, series x values are
    /// category indices and the numeric ticks are replaced by these labels.
    /// </summary>
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>Whether numeric x ticks fall on whole numbers only, as epochs do.</summary>
    public bool IntegerX { get; init; }

    /// <summary>Fixed y range; null fits the data (error bars included).</summary>
    public (double Min, double Max)? YRange { get; init; }

    /// <summary>Bounds the fitted y range never crosses, such as (0, 1) for accuracy; null for none.</summary>
    public (double Min, double Max)? YLimits { get; init; }

    public int Width { get; init; } = 900;
    public int Height { get; init; } = 520;

    public IReadOnlyList<LineSeries> Series => _series;

    public LineChart Add(LineSeries series)
    {
        _series.Add(series);
        return this;
    }

    /// <summary>Draws the chart and returns PNG bytes.</summary>
    public byte[] RenderPng() => PngFile.Render(Width, Height, Draw);

    /// <summary>Draws the chart into the <see cref="Width"/> x <see cref="Height"/> box at the canvas origin (translate the canvas to place it).</summary>
    public void Draw(SKCanvas canvas) => DrawChart(canvas);

    /// <summary>Draws the chart into a PNG file.</summary>
    public void SavePng(string path) => PngFile.Write(path, RenderPng());

    private void DrawChart(SKCanvas canvas)
    {
        using var titleFont = PlotText.Font(18);
        using var labelFont = PlotText.Font(14);
        using var tickFont = PlotText.Font(12);

        var (xMin, xMax, xTicks) = XRange();
        var (yMin, yMax, yTicks) = YAxisRange();
        var yTickTexts = yTicks.Select(t => AxisTicks.Format(t, yTicks)).ToList();
        var xTickTexts = Categories is not null ? Categories.ToList() : xTicks.Select(t => AxisTicks.Format(t, xTicks)).ToList();

        // Layout: title on top, y label and tick texts on the left, legend on the right, x ticks and label below.
        float top = Padding + (Title.Length > 0 ? 28 : 0);
        float yTickWidth = yTickTexts.Count == 0 ? 0 : yTickTexts.Max(t => PlotText.Measure(tickFont, t));
        float left = Padding + (YLabel.Length > 0 ? 24 : 0) + yTickWidth + TickLength + 6;
        float legendWidth = LegendWidth(labelFont);
        float right = Width - Padding - legendWidth;

        // Categorical labels that would overlap are drawn slanted, which needs more room below, and
        // to the left for the first label, which reaches cos(35 degrees) of its width left of its tick.
        float slotWidth = (right - left) / Math.Max(1, xTickTexts.Count);
        float widestXTick = xTickTexts.Count == 0 ? 0 : xTickTexts.Max(t => PlotText.Measure(tickFont, t));
        bool slanted = Categories is not null && widestXTick > slotWidth - 6;
        if (slanted)
        {
            float firstReach = PlotText.Measure(tickFont, xTickTexts[0]) * 0.82f;
            float firstTick = left + (right - left) / Math.Max(1, xTickTexts.Count) / 2;
            if (firstTick - firstReach < Padding) left += Padding - (firstTick - firstReach);
        }
        float xTickHeight = slanted ? widestXTick * 0.6f + 14 : 18;
        float bottom = Height - Padding - (XLabel.Length > 0 ? 22 : 0) - xTickHeight - TickLength;
        if (right - left < 50 || bottom - top < 50)
            throw new InvalidOperationException($"chart '{Title}' is too small ({Width}x{Height}) for its labels and legend");

        float MapX(double x) => (float)(left + (x - xMin) / (xMax - xMin) * (right - left));
        float MapY(double y) => (float)(bottom - (y - yMin) / (yMax - yMin) * (bottom - top));

        if (Title.Length > 0)
        {
            // A title wider than the image is drawn smaller rather than cut off at both edges.
            float available = Width - 2 * Padding;
            float titleWidth = PlotText.Measure(titleFont, Title);
            if (titleWidth > available) titleFont.Size = Math.Max(9, titleFont.Size * available / titleWidth);
            PlotText.Draw(canvas, Title, Width / 2f, Padding + 18, titleFont, PlotColors.Text, SKTextAlign.Center);
        }

        using var gridPaint = new SKPaint { Color = PlotColors.Grid, StrokeWidth = 1, IsAntialias = false };
        using var axisPaint = new SKPaint { Color = PlotColors.Axis, StrokeWidth = 1, IsAntialias = false };

        for (int i = 0; i < yTicks.Count; i++)
        {
            float y = MapY(yTicks[i]);
            canvas.DrawLine(left, y, right, y, gridPaint);
            canvas.DrawLine(left - TickLength, y, left, y, axisPaint);
            PlotText.Draw(canvas, yTickTexts[i], left - TickLength - 4, y + PlotText.CapHeight(tickFont) / 2, tickFont, PlotColors.Text, SKTextAlign.Right);
        }

        var xPositions = Categories is not null ? Enumerable.Range(0, Categories.Count).Select(i => (double)i).ToList() : xTicks.ToList();
        for (int i = 0; i < xPositions.Count; i++)
        {
            float x = MapX(xPositions[i]);
            canvas.DrawLine(x, top, x, bottom, gridPaint);
            canvas.DrawLine(x, bottom, x, bottom + TickLength, axisPaint);
            float textY = bottom + TickLength + 4 + PlotText.CapHeight(tickFont);
            if (slanted) PlotText.DrawRotated(canvas, xTickTexts[i], x + 4, textY, -35, tickFont, PlotColors.Text, SKTextAlign.Right);
            else PlotText.Draw(canvas, xTickTexts[i], x, textY, tickFont, PlotColors.Text, SKTextAlign.Center);
        }

        canvas.DrawRect(left, top, right - left, bottom - top, new SKPaint { Color = PlotColors.Axis, Style = SKPaintStyle.Stroke, StrokeWidth = 1 });
        if (XLabel.Length > 0) PlotText.Draw(canvas, XLabel, (left + right) / 2, Height - Padding - 4, labelFont, PlotColors.Text, SKTextAlign.Center);
        if (YLabel.Length > 0) PlotText.DrawRotated(canvas, YLabel, Padding + 14, (top + bottom) / 2, -90, labelFont, PlotColors.Text);

        canvas.Save();
        canvas.ClipRect(new SKRect(left, top, right + 1, bottom + 1));
        for (int s = 0; s < _series.Count; s++) DrawSeries(canvas, _series[s], ColorOf(s), MapX, MapY);
        canvas.Restore();

        DrawLegend(canvas, labelFont, right + Padding, top);
    }

    private void DrawSeries(SKCanvas canvas, LineSeries series, SKColor color, Func<double, float> mapX, Func<double, float> mapY)
    {
        using var linePaint = new SKPaint
        {
            Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke,
            PathEffect = series.Dashed ? SKPathEffect.CreateDash([7, 5], 0) : null,
        };
        using var fillPaint = new SKPaint { Color = color, IsAntialias = true, Style = SKPaintStyle.Fill };
        using var errorPaint = new SKPaint { Color = color, StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };

        if (series.Line)
        {
            using var path = new SKPath();
            bool open = false;
            for (int i = 0; i < series.X.Count; i++)
            {
                if (!double.IsFinite(series.Y[i])) { open = false; continue; }
                var point = new SKPoint(mapX(series.X[i]), mapY(series.Y[i]));
                if (open) path.LineTo(point);
                else path.MoveTo(point);
                open = true;
            }
            canvas.DrawPath(path, linePaint);
        }

        for (int i = 0; i < series.X.Count; i++)
        {
            if (!double.IsFinite(series.Y[i])) continue;
            float x = mapX(series.X[i]);
            float y = mapY(series.Y[i]);
            if (series.Errors is { } errors && double.IsFinite(errors[i]) && errors[i] > 0)
            {
                float low = mapY(series.Y[i] - errors[i]);
                float high = mapY(series.Y[i] + errors[i]);
                canvas.DrawLine(x, low, x, high, errorPaint);
                canvas.DrawLine(x - 4, low, x + 4, low, errorPaint);
                canvas.DrawLine(x - 4, high, x + 4, high, errorPaint);
            }
            if (series.Markers) canvas.DrawCircle(x, y, 3.5f, fillPaint);
        }
    }

    private float LegendWidth(SKFont font)
    {
        var names = _series.Where(s => s.Name.Length > 0).Select(s => s.Name).ToList();
        return names.Count == 0 ? 0 : names.Max(n => PlotText.Measure(font, n)) + 40 + Padding;
    }

    private void DrawLegend(SKCanvas canvas, SKFont font, float x, float y)
    {
        float rowHeight = font.Size + 8;
        float row = y + rowHeight / 2;
        for (int s = 0; s < _series.Count; s++)
        {
            var series = _series[s];
            if (series.Name.Length == 0) continue;
            var color = ColorOf(s);
            using var paint = new SKPaint
            {
                Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke,
                PathEffect = series.Dashed ? SKPathEffect.CreateDash([7, 5], 0) : null,
            };
            if (series.Line) canvas.DrawLine(x, row, x + 28, row, paint);
            if (series.Markers) canvas.DrawCircle(x + 14, row, 3.5f, new SKPaint { Color = color, IsAntialias = true });
            PlotText.Draw(canvas, series.Name, x + 36, row + PlotText.CapHeight(font) / 2, font, PlotColors.Text);
            row += rowHeight;
        }
    }

    private SKColor ColorOf(int index)
    {
        if (_series[index].Color is { } color) return color;
        // Palette colours go to the series without an explicit colour, in order.
        int automatic = 0;
        for (int i = 0; i < index; i++) if (_series[i].Color is null) automatic++;
        return PlotColors.ForSeries(automatic);
    }

    private (double Min, double Max, IReadOnlyList<double> Ticks) XRange()
    {
        if (Categories is not null) return (-0.5, Math.Max(1, Categories.Count) - 0.5, []);
        var xs = _series.SelectMany(s => s.X).Where(double.IsFinite).ToList();
        if (xs.Count == 0) return AxisTicks.Nice(0, 1);
        return AxisTicks.Nice(xs.Min(), xs.Max(), minimumStep: IntegerX ? 1 : 0);
    }

    private (double Min, double Max, IReadOnlyList<double> Ticks) YAxisRange()
    {
        var (min, max, ticks) = FitYRange();
        if (YLimits is not { } limits) return (min, max, ticks);
        min = Math.Max(min, limits.Min);
        max = Math.Min(max, limits.Max);
        return (min, max, ticks.Where(t => t >= min - 1e-12 && t <= max + 1e-12).ToList());
    }

    private (double Min, double Max, IReadOnlyList<double> Ticks) FitYRange()
    {
        if (YRange is { } fixedRange) return AxisTicks.Nice(fixedRange.Min, fixedRange.Max);
        var lows = new List<double>();
        var highs = new List<double>();
        foreach (var series in _series)
        {
            for (int i = 0; i < series.Y.Count; i++)
            {
                double y = series.Y[i];
                if (!double.IsFinite(y)) continue;
                double error = series.Errors is { } errors && double.IsFinite(errors[i]) ? Math.Abs(errors[i]) : 0;
                lows.Add(y - error);
                highs.Add(y + error);
            }
        }
        if (lows.Count == 0) return AxisTicks.Nice(0, 1);

        // A small margin keeps points and error-bar caps off the frame when they fall on a tick.
        double margin = (highs.Max() - lows.Min()) * 0.02;
        return AxisTicks.Nice(lows.Min() - margin, highs.Max() + margin, target: 8);
    }
}
