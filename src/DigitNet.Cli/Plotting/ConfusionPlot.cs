using DigitNet.Data;
using DigitNet.Training;
using SkiaSharp;

namespace DigitNet.Cli.Plotting;

/// <summary>
/// The picture of <c>digitnet evaluate --plot</c>: the confusion matrix as a <see cref="Heatmap"/>
/// and, below it, an <see cref="ImageGrid"/> of the listed mistakes captioned with their true and
/// predicted class, in one PNG file.
/// </summary>
public static class EvaluationPlot
{
    private const float Gap = 8;

    /// <summary>
    /// Draws <paramref name="report"/>'s confusion matrix and the images of <paramref name="mistakes"/>
    /// (raw pixels from <paramref name="data"/>, indexed by <see cref="Mistake.Index"/>) into <paramref name="path"/>.
    /// </summary>
    public static void Save(string path, ClassificationReport report, IReadOnlyList<string> classNames, Dataset data,
        IReadOnlyList<Mistake> mistakes, string title)
    {
        int classes = classNames.Count;
        var counts = new double[classes, classes];
        for (int row = 0; row < classes; row++)
        {
            for (int column = 0; column < classes; column++) counts[row, column] = report.Confusion[row, column];
        }
        var heatmap = new Heatmap(counts)
        {
            Title = title,
            XLabel = "predicted",
            YLabel = "true",
            RowLabels = classNames,
            ColumnLabels = classNames,
        };
        var parts = new List<byte[]> { heatmap.RenderPng() };

        if (mistakes.Count > 0)
        {
            var grid = new ImageGrid { Title = "most confident mistakes (true -> predicted, confidence)", Columns = 10, Scale = 4 };
            int height = data.SampleShape[data.SampleShape.Rank - 2];
            int width = data.SampleShape[data.SampleShape.Rank - 1];
            foreach (var mistake in mistakes)
            {
                // Only the first channel is drawn; digits have one.
                var pixels = data.Sample(mistake.Index)[..(width * height)];
                string caption = $"{classNames[mistake.TrueClass]} -> {classNames[mistake.PredictedClass]} {mistake.Confidence:0.00}";
                grid.Add(pixels, width, height, caption, highlight: true);
            }
            parts.Add(grid.RenderPng());
        }

        PngFile.Write(path, Stack(parts));
    }

    /// <summary>Stacks PNG images vertically, left-aligned, on a white page.</summary>
    private static byte[] Stack(IReadOnlyList<byte[]> pngs)
    {
        var bitmaps = pngs.Select(png => SKBitmap.Decode(png)
            ?? throw new InvalidOperationException("SkiaSharp could not decode a PNG it had just rendered")).ToList();
        try
        {
            int width = bitmaps.Max(b => b.Width);
            int height = (int)(bitmaps.Sum(b => b.Height) + Gap * (bitmaps.Count - 1));
            return PngFile.Render(width, height, canvas =>
            {
                float y = 0;
                foreach (var bitmap in bitmaps)
                {
                    canvas.DrawBitmap(bitmap, 0, y);
                    y += bitmap.Height + Gap;
                }
            });
        }
        finally
        {
            foreach (var bitmap in bitmaps) bitmap.Dispose();
        }
    }
}
