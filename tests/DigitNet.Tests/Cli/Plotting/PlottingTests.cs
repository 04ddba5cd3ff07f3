using DigitNet.Cli.Plotting;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;
using SkiaSharp;

namespace DigitNet.Tests.Cli.Plotting;

public class PlottingTests
{
    /// <summary>Counts pixels darker than mid-grey inside <paramref name="area"/> of a PNG.</summary>
    private static int DarkPixels(byte[] png, SKRectI area)
    {
        using var bitmap = SKBitmap.Decode(png);
        int count = 0;
        for (int y = area.Top; y < area.Bottom; y++)
        {
            for (int x = area.Left; x < area.Right; x++)
            {
                var pixel = bitmap.GetPixel(x, y);
                if (pixel.Red + pixel.Green + pixel.Blue < 3 * 128) count++;
            }
        }
        return count;
    }

    [Fact]
    public void EmbeddedFontDrawsGlyphs()
    {
        var chart = new LineChart { Title = "Title text", Width = 400, Height = 300 };
        chart.Add(new LineSeries("", [0, 1], [0, 1]));

        byte[] png = chart.RenderPng();

        // The title is the only thing drawn in the top 30 rows, so dark pixels there are glyphs.
        Assert.True(DarkPixels(png, new SKRectI(0, 0, 400, 30)) > 50, "the title rendered no glyphs; the embedded font did not load");
    }

    [Fact]
    public void LineChartHasRequestedSize()
    {
        var chart = new LineChart { Title = "t", XLabel = "x", YLabel = "y", Width = 500, Height = 320 };
        chart.Add(new LineSeries("a", [1, 2, 3], [0.5, 0.7, double.NaN], [0.1, 0.05, 0.1]));

        using var bitmap = SKBitmap.Decode(chart.RenderPng());

        Assert.Equal(500, bitmap.Width);
        Assert.Equal(320, bitmap.Height);
    }

    [Fact]
    public void SameChartGivesSameBytes()
    {
        LineChart Make()
        {
            var chart = new LineChart { Title = "Same", Categories = ["first label", "second label", "third"] };
            chart.Add(new LineSeries("mean", [0, 1, 2], [0.9, 0.95, 0.97], [0.01, 0.02, 0.005]) { Line = false });
            return chart;
        }

        Assert.Equal(Make().RenderPng(), Make().RenderPng());
    }

    [Fact]
    public void SeriesLengthsMustMatch()
    {
        Assert.Throws<ArgumentException>(() => new LineSeries("bad", [1, 2], [1]));
        Assert.Throws<ArgumentException>(() => new LineSeries("bad", [1, 2], [1, 2], [0.1]));
    }

    [Fact]
    public void HeatmapSizeFollowsCells()
    {
        var values = new double[10, 10];
        for (int i = 0; i < 10; i++) values[i, i] = 100;
        var heatmap = new Heatmap(values) { Title = "Confusion", XLabel = "predicted", YLabel = "true", CellSize = 30 };

        using var bitmap = SKBitmap.Decode(heatmap.RenderPng());

        Assert.InRange(bitmap.Width, 300, 399);
        Assert.InRange(bitmap.Height, 300, 419);
    }

    [Fact]
    public void HeatmapRejectsWrongLabelCount()
    {
        var heatmap = new Heatmap(new double[2, 3]) { RowLabels = ["a"] };

        Assert.Throws<ArgumentException>(() => heatmap.RenderPng());
    }

    [Fact]
    public void ImageGridScalesImages()
    {
        var grid = new ImageGrid { Columns = 2, Scale = 3 };
        var pixels = new float[16 * 16];
        pixels[0] = 255;
        grid.Add(pixels, 16, 16, "a").Add(pixels, 16, 16, "b", highlight: true).Add(pixels, 16, 16, "c");

        using var bitmap = SKBitmap.Decode(grid.RenderPng());

        Assert.True(bitmap.Width >= 2 * 16 * 3, $"width {bitmap.Width}");
        Assert.True(bitmap.Height >= 2 * 16 * 3, $"height {bitmap.Height}");
        Assert.Throws<ArgumentException>(() => grid.Add(pixels, 15, 16, "wrong size"));
        Assert.Throws<InvalidOperationException>(() => new ImageGrid().RenderPng());
    }

    [Fact]
    public void TrainingCurvesNeedEpochs()
    {
        Assert.Throws<ArgumentException>(() => TrainingCurves.RenderPng([], 0));
        byte[] png = TrainingCurves.RenderPng([new EpochMetrics(1, 0.5, 0.8, 0.6, 0.7, 0.2, 1), new EpochMetrics(2, 0.4, 0.85, 0.5, 0.75, 0.2, 1)], 2);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal(1280, bitmap.Width);
    }

    [Fact]
    public void TrainPlotWritesPng()
    {
        using var folder = new TempDirectory();
        string plot = Path.Combine(folder.Path, "curves.png");

        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--hidden", "8", "--epochs", "2", "--batch-size", "50", "--quiet", "--plot", plot);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var bitmap = SKBitmap.Decode(File.ReadAllBytes(plot));
        Assert.Equal(1280, bitmap.Width);
    }

    [Fact]
    public void TrainPlotNeedsExistingFolder()
    {
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--epochs", "1", "--plot", "/nonexistent/folder/curves.png");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--plot", result.StandardError);
    }
}
