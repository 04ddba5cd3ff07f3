using DigitNet.Training;

namespace DigitNet.Cli.Plotting;

/// <summary>The loss and accuracy per epoch of one training run, training and validation, side by side in one PNG.</summary>
public static class TrainingCurves
{
    private const int PanelWidth = 640;
    private const int PanelHeight = 420;

    /// <summary>
    /// Draws <paramref name="epochs"/> as two charts (loss on the left, accuracy on the right) and
    /// marks <paramref name="bestEpoch"/>, the epoch whose weights were tested.
    /// </summary>
    public static byte[] RenderPng(IReadOnlyList<EpochMetrics> epochs, int bestEpoch)
    {
        if (epochs.Count == 0) throw new ArgumentException("no epoch finished, so there is nothing to plot", nameof(epochs));
        var x = epochs.Select(m => (double)m.Epoch).ToList();
        bool markers = epochs.Count <= 30;
        var best = epochs.FirstOrDefault(m => m.Epoch == bestEpoch);

        var loss = new LineChart { Title = "Loss per epoch", XLabel = "epoch", YLabel = "loss", IntegerX = true, YLimits = (0, double.PositiveInfinity), Width = PanelWidth, Height = PanelHeight };
        loss.Add(new LineSeries("training", x, epochs.Select(m => m.TrainLoss).ToList()) { Markers = markers });
        loss.Add(new LineSeries("validation", x, epochs.Select(m => m.ValidLoss).ToList()) { Markers = markers });

        var accuracy = new LineChart { Title = "Accuracy per epoch", XLabel = "epoch", YLabel = "accuracy", IntegerX = true, YLimits = (0, 1), Width = PanelWidth, Height = PanelHeight };
        accuracy.Add(new LineSeries("training", x, epochs.Select(m => m.TrainAccuracy).ToList()) { Markers = markers });
        accuracy.Add(new LineSeries("validation", x, epochs.Select(m => m.ValidAccuracy).ToList()) { Markers = markers });

        if (best is not null)
        {
            loss.Add(new LineSeries($"tested (epoch {best.Epoch})", [best.Epoch], [best.ValidLoss]) { Line = false, Color = PlotColors.Highlight });
            accuracy.Add(new LineSeries($"tested (epoch {best.Epoch})", [best.Epoch], [best.ValidAccuracy]) { Line = false, Color = PlotColors.Highlight });
        }

        return PngFile.Render(PanelWidth * 2, PanelHeight, canvas =>
        {
            loss.Draw(canvas);
            canvas.Translate(PanelWidth, 0);
            accuracy.Draw(canvas);
        });
    }
}
