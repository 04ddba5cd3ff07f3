using System.Globalization;
using SkiaSharp;

namespace DigitNet.Cli.Plotting;

/// <summary>
/// A matrix drawn as coloured cells, white for the minimum and dark blue for the maximum, with row
/// and column labels and the value written in each cell. It is made for confusion matrices, whose
/// rows are the true classes and columns the predicted classes.
/// </summary>
public sealed class Heatmap
{
    private const float Padding = 12;

    /// <summary>Creates a heatmap of <paramref name="values"/>, indexed [row, column].</summary>
    public Heatmap(double[,] values)
    {
        if (values.GetLength(0) == 0 || values.GetLength(1) == 0)
            throw new ArgumentException($"heatmap needs at least one cell, got {values.GetLength(0)}x{values.GetLength(1)}");
        Values = values;
    }

    /// <summary>Cell values, [row, column].</summary>
    public double[,] Values { get; }

    public string Title { get; init; } = "";

    /// <summary>Label of the horizontal axis (columns), such as "predicted".</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Label of the vertical axis (rows), such as "true".</summary>
    public string YLabel { get; init; } = "";

    /// <summary>One label per row; null numbers the rows from 0.</summary>
    public IReadOnlyList<string>? RowLabels { get; init; }

    /// <summary>One label per column; null numbers the columns from 0.</summary>
    public IReadOnlyList<string>? ColumnLabels { get; init; }

    /// <summary>.NET format string for the value written in each cell ("0" for counts, "0.00" for rates); null writes nothing.</summary>
    public string? ValueFormat { get; init; } = "0";

    /// <summary>Side of one square cell in pixels.</summary>
    public int CellSize { get; init; } = 44;

    /// <summary>Values mapped to the lightest and darkest colour; null uses the matrix minimum and maximum.</summary>
    public (double Min, double Max)? ColorRange { get; init; }

    /// <summary>Draws the heatmap and returns PNG bytes; the image size follows from the cell count and <see cref="CellSize"/>.</summary>
    public byte[] RenderPng()
    {
        var (width, height) = Size();
        return PngFile.Render(width, height, Draw);
    }

    /// <summary>Draws the heatmap into a PNG file.</summary>
    public void SavePng(string path) => PngFile.Write(path, RenderPng());

    private int Rows => Values.GetLength(0);
    private int Columns => Values.GetLength(1);

    private IReadOnlyList<string> RowTexts => RowLabels ?? Enumerable.Range(0, Rows).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
    private IReadOnlyList<string> ColumnTexts => ColumnLabels ?? Enumerable.Range(0, Columns).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();

    private (float Left, float Top) Origin()
    {
        using var tickFont = PlotText.Font(13);
        float rowLabelWidth = RowTexts.Max(t => PlotText.Measure(tickFont, t));
        float left = Padding + (YLabel.Length > 0 ? 24 : 0) + rowLabelWidth + 8;
        float top = Padding + (Title.Length > 0 ? 28 : 0) + (XLabel.Length > 0 ? 22 : 0) + 20;
        return (left, top);
    }

    private (int Width, int Height) Size()
    {
        if (RowLabels is not null && RowLabels.Count != Rows)
            throw new ArgumentException($"heatmap has {Rows} rows but {RowLabels.Count} row labels");
        if (ColumnLabels is not null && ColumnLabels.Count != Columns)
            throw new ArgumentException($"heatmap has {Columns} columns but {ColumnLabels.Count} column labels");
        var (left, top) = Origin();
        using var titleFont = PlotText.Font(18);
        float gridWidth = Columns * CellSize;
        float titleWidth = Title.Length > 0 ? PlotText.Measure(titleFont, Title) : 0;
        int width = (int)Math.Ceiling(Math.Max(left + gridWidth, titleWidth) + Padding);
        int height = (int)Math.Ceiling(top + Rows * CellSize + Padding);
        return (width, height);
    }

    private void Draw(SKCanvas canvas)
    {
        using var titleFont = PlotText.Font(18);
        using var labelFont = PlotText.Font(14);
        using var tickFont = PlotText.Font(13);
        using var cellFont = PlotText.Font(Math.Clamp(CellSize * 0.3f, 8, 16));

        var (left, top) = Origin();
        float gridWidth = Columns * CellSize;
        float gridHeight = Rows * CellSize;

        var finite = Values.Cast<double>().Where(double.IsFinite).ToList();
        var (min, max) = ColorRange ?? (finite.Count > 0 ? (finite.Min(), finite.Max()) : (0, 1));
        double span = max > min ? max - min : 1;

        float y = Padding;
        if (Title.Length > 0)
        {
            PlotText.Draw(canvas, Title, left + gridWidth / 2, y + 18, titleFont, PlotColors.Text, SKTextAlign.Center);
            y += 28;
        }
        if (XLabel.Length > 0)
        {
            PlotText.Draw(canvas, XLabel, left + gridWidth / 2, y + 16, labelFont, PlotColors.Text, SKTextAlign.Center);
        }
        if (YLabel.Length > 0) PlotText.DrawRotated(canvas, YLabel, Padding + 14, top + gridHeight / 2, -90, labelFont, PlotColors.Text);

        var columnTexts = ColumnTexts;
        for (int c = 0; c < Columns; c++)
            PlotText.Draw(canvas, columnTexts[c], left + (c + 0.5f) * CellSize, top - 6, tickFont, PlotColors.Text, SKTextAlign.Center);
        var rowTexts = RowTexts;
        for (int r = 0; r < Rows; r++)
            PlotText.Draw(canvas, rowTexts[r], left - 8, top + (r + 0.5f) * CellSize + PlotText.CapHeight(tickFont) / 2, tickFont, PlotColors.Text, SKTextAlign.Right);

        using var cellPaint = new SKPaint { Style = SKPaintStyle.Fill };
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Columns; c++)
            {
                double value = Values[r, c];
                var color = double.IsFinite(value) ? PlotColors.Sequential((value - min) / span) : new SKColor(0xCC, 0xCC, 0xCC);
                cellPaint.Color = color;
                float x = left + c * CellSize;
                float cellTop = top + r * CellSize;
                canvas.DrawRect(x, cellTop, CellSize, CellSize, cellPaint);
                if (ValueFormat is not null && double.IsFinite(value))
                {
                    string text = value.ToString(ValueFormat, CultureInfo.InvariantCulture);
                    PlotText.Draw(canvas, text, x + CellSize / 2f, cellTop + CellSize / 2f + PlotText.CapHeight(cellFont) / 2, cellFont, PlotColors.TextOn(color), SKTextAlign.Center);
                }
            }
        }

        using var borderPaint = new SKPaint { Color = PlotColors.Axis, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(left, top, gridWidth, gridHeight, borderPaint);
    }
}
