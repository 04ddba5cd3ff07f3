using DigitNet.Experiments;

namespace DigitNet.Cli.Plotting;

/// <summary>The figures of one sweep report: the metric against the swept setting, and per-epoch curves.</summary>
public static class SweepPlots
{
    /// <summary>
    /// Draws the figures of <paramref name="summary"/> into <paramref name="folder"/> as
    /// <c>NAME-METRIC.png</c>, <c>NAME-curves-accuracy.png</c> and <c>NAME-curves-loss.png</c>;
    /// returns (caption, full path) pairs. Rows without test metrics (missing or diverged) are left out of the figures.
    /// </summary>
    public static IReadOnlyList<(string Caption, string Path)> Write(SweepSummary summary, string folder)
    {
        var sweep = summary.Sweep;
        var rows = summary.Rows.Where(r => r.WithMetrics > 0).ToList();
        if (rows.Count == 0) return [];

        var figures = new List<(string, string)>();
        var (metricPath, accuracyPath, lossPath) = FigurePaths(sweep, folder);
        bool loss = sweep.Report.Metric == "test_loss";
        string metricText = loss ? "test loss" : "test accuracy";
        MetricChart(summary, rows, loss, metricText).SavePng(metricPath);
        figures.Add(($"{metricText} against {sweep.Report.XLabel}", metricPath));

        CurveChart(sweep, rows, accuracy: true).SavePng(accuracyPath);
        figures.Add(("accuracy per epoch", accuracyPath));

        CurveChart(sweep, rows, accuracy: false).SavePng(lossPath);
        figures.Add(("loss per epoch", lossPath));
        return figures;
    }

    /// <summary>Returns the paths of the three figures that <see cref="Write"/> draws for <paramref name="sweep"/> into <paramref name="folder"/>.</summary>
    public static (string Metric, string AccuracyCurves, string LossCurves) FigurePaths(SweepConfig sweep, string folder) => (
        Path.Combine(folder, $"{sweep.Name}-{sweep.Report.Metric.Replace('_', '-')}.png"),
        Path.Combine(folder, $"{sweep.Name}-curves-accuracy.png"),
        Path.Combine(folder, $"{sweep.Name}-curves-loss.png"));

    private static LineChart MetricChart(SweepSummary summary, List<SweepRow> rows, bool loss, string metricText)
    {
        var sweep = summary.Sweep;
        bool categorical = sweep.Report.Categorical;
        var chart = new LineChart
        {
            Title = $"{sweep.Title}: {metricText}",
            XLabel = sweep.Report.XLabel,
            YLabel = metricText,
            YLimits = loss ? (0, double.PositiveInfinity) : (0, 1),
            Categories = categorical ? rows.Select(r => r.Point.Label).ToList() : null,
        };

        var x = rows.Select((r, i) => categorical ? i : r.Point.XValue!.Value).ToList();
        var mean = rows.Select(r => loss ? r.TestLoss.Mean : r.TestAccuracy.Mean).ToList();
        var std = rows.Select(r => loss ? r.TestLoss.Std : r.TestAccuracy.Std).ToList();
        int seeds = sweep.Seeds.Count;
        chart.Add(new LineSeries($"DigitNet, mean ± std of {seeds} seed{(seeds == 1 ? "" : "s")}", x, mean, std) { Line = !categorical });

        if (rows.Any(r => r.Point.Reference is not null))
        {
            var reference = rows.Select(r => r.Point.Reference ?? double.NaN).ToList();
            chart.Add(new LineSeries(sweep.Report.ReferenceLabel, x, reference) { Dashed = true, Line = !categorical });
        }
        return chart;
    }

    private static LineChart CurveChart(SweepConfig sweep, List<SweepRow> rows, bool accuracy)
    {
        string quantity = accuracy ? "accuracy" : "loss";
        var chart = new LineChart
        {
            Title = $"{sweep.Title}: {quantity} per epoch (solid: validation, dashed: training)",
            XLabel = "epoch",
            IntegerX = true,
            YLabel = $"{quantity} (mean over seeds)",
            YLimits = accuracy ? (0, 1) : (0, double.PositiveInfinity),
            Width = 1000,
        };
        for (int i = 0; i < rows.Count; i++)
        {
            var curves = rows[i].Curves;
            var color = PlotColors.ForSeries(i);
            var epochs = curves.Epochs.Select(e => (double)e).ToList();
            chart.Add(new LineSeries(rows[i].Point.Label, epochs, accuracy ? curves.ValidAccuracy : curves.ValidLoss) { Color = color, Markers = epochs.Count <= 30 });
            chart.Add(new LineSeries("", epochs, accuracy ? curves.TrainAccuracy : curves.TrainLoss) { Color = color, Dashed = true, Markers = false });
        }
        return chart;
    }
}
