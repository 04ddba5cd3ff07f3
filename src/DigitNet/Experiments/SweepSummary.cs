using DigitNet.Training;

namespace DigitNet.Experiments;

/// <summary>Mean and sample standard deviation of a set of values.</summary>
/// <param name="Mean">Arithmetic mean; NaN for no values.</param>
/// <param name="Std">Sample standard deviation (divisor n - 1); NaN for fewer than two values.</param>
/// <param name="Count">Number of values.</param>
public readonly record struct MeanStd(double Mean, double Std, int Count)
{
    /// <summary>Summarises <paramref name="values"/>; an empty set gives NaN for both.</summary>
    public static MeanStd Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return new MeanStd(double.NaN, double.NaN, 0);
        double mean = values.Average();
        if (values.Count < 2) return new MeanStd(mean, double.NaN, values.Count);
        double sumOfSquares = values.Sum(v => (v - mean) * (v - mean));
        return new MeanStd(mean, Math.Sqrt(sumOfSquares / (values.Count - 1)), values.Count);
    }
}

/// <summary>Per-epoch means over the seeds of one row; epoch e averages the seeds that reached it.</summary>
public sealed record EpochCurves(
    IReadOnlyList<int> Epochs,
    IReadOnlyList<double> TrainLoss,
    IReadOnlyList<double> TrainAccuracy,
    IReadOnlyList<double> ValidLoss,
    IReadOnlyList<double> ValidAccuracy);

/// <summary>One row of a sweep report: the statistics over the seeds of one settings point.</summary>
/// <param name="Point">The settings point of the row.</param>
/// <param name="Found">Seeds with a record, diverged ones included.</param>
/// <param name="Expected">Seeds the configuration lists.</param>
/// <param name="Diverged">Seeds whose trial diverged; they count in <paramref name="Found"/> but in none of the statistics.</param>
/// <param name="TestAccuracy">Test accuracy over the seeds found that did not diverge.</param>
/// <param name="TestLoss">Test loss over the seeds found that did not diverge, in the row's own loss function.</param>
/// <param name="BestEpoch">Mean over the seeds that did not diverge of the epoch whose weights were tested.</param>
/// <param name="Seconds">Training seconds per trial that did not diverge; the one column that varies between identical runs.</param>
/// <param name="Curves">Per-epoch metrics averaged over the seeds found that did not diverge.</param>
public sealed record SweepRow(
    SweepPoint Point,
    int Found,
    int Expected,
    int Diverged,
    MeanStd TestAccuracy,
    MeanStd TestLoss,
    MeanStd BestEpoch,
    MeanStd Seconds,
    EpochCurves Curves)
{
    /// <summary>Seeds with test metrics: found and not diverged.</summary>
    public int WithMetrics => Found - Diverged;
}

/// <summary>The rows of one sweep, computed from the records of its trials.</summary>
public sealed record SweepSummary(SweepConfig Sweep, IReadOnlyList<SweepRow> Rows)
{
    /// <summary>Trials of the sweep that have no record yet.</summary>
    public int MissingTrials => Rows.Sum(r => r.Expected - r.Found);

    /// <summary>Trials of the sweep whose loss became NaN or infinite.</summary>
    public int DivergedTrials => Rows.Sum(r => r.Diverged);

    /// <summary>
    /// Summarises <paramref name="sweep"/> from <paramref name="records"/> (by trial id). Records
    /// of other trials are ignored; rows keep the order of the configuration. Diverged trials are
    /// counted but left out of every statistic and curve.
    /// </summary>
    public static SweepSummary Create(SweepConfig sweep, SweepPlan plan, IReadOnlyDictionary<string, TrialRecord> records)
    {
        var rows = new List<SweepRow>();
        foreach (var point in sweep.Points)
        {
            var found = sweep.Seeds
                .Select(seed => records.GetValueOrDefault(plan.IdOf(point, seed)))
                .OfType<TrialRecord>()
                .ToList();
            var finished = found.Where(r => !r.Diverged).ToList();
            rows.Add(new SweepRow(
                point, found.Count, sweep.Seeds.Count, found.Count - finished.Count,
                MeanStd.Of(finished.Select(r => r.TestAccuracy!.Value).ToList()),
                MeanStd.Of(finished.Select(r => r.TestLoss!.Value).ToList()),
                MeanStd.Of(finished.Select(r => (double)r.BestEpoch!.Value).ToList()),
                MeanStd.Of(finished.Select(r => r.TrainSeconds).ToList()),
                AverageCurves(finished)));
        }
        return new SweepSummary(sweep, rows);
    }

    private static EpochCurves AverageCurves(IReadOnlyList<TrialRecord> records)
    {
        int epochs = records.Count == 0 ? 0 : records.Max(r => r.Epochs.Count);
        var numbers = new List<int>();
        var trainLoss = new List<double>();
        var trainAccuracy = new List<double>();
        var validLoss = new List<double>();
        var validAccuracy = new List<double>();
        for (int e = 0; e < epochs; e++)
        {
            var reached = records.Where(r => r.Epochs.Count > e).Select(r => r.Epochs[e]).ToList();
            numbers.Add(reached[0].Epoch);
            trainLoss.Add(reached.Average(m => m.TrainLoss));
            trainAccuracy.Add(reached.Average(m => m.TrainAccuracy));
            validLoss.Add(reached.Average(m => m.ValidLoss));
            validAccuracy.Add(reached.Average(m => m.ValidAccuracy));
        }
        return new EpochCurves(numbers, trainLoss, trainAccuracy, validLoss, validAccuracy);
    }
}
