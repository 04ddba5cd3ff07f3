using DigitNet.Training;

namespace DigitNet.Experiments;

/// <summary>
/// A validated sweep: the settings points to compare, the seeds each point runs with, and how the
/// report shows them. Built by <see cref="SweepConfigReader"/> from a JSON configuration file.
/// </summary>
public sealed record SweepConfig(
    string Name,
    string Title,
    string Description,
    IReadOnlyList<SweepPoint> Points,
    IReadOnlyList<ulong> Seeds,
    SweepReportSpec Report);

/// <summary>
/// One row of a sweep's table: the settings of its trials (without the seed) and, for a
/// fine-tuning row, the settings of the second stage.
/// </summary>
/// <param name="Label">Text of the row, such as <c>100</c> or <c>lr=0.3 momentum=0.9</c>.</param>
/// <param name="Options">Settings of every trial of the row except <see cref="TrainingOptions.Seed"/> and <see cref="TrainingOptions.Threads"/>.</param>
/// <param name="XValue">Position on a numeric x axis; null when the swept setting is not a single number.</param>
/// <param name="Reference">The published result for this row (in the report's metric), if any.</param>
/// <param name="FineTune">
/// Settings of a second training stage that trains only the last layer with parameters, the rest
/// frozen. Null for a plain training trial.
/// </param>
public sealed record SweepPoint(
    string Label,
    TrainingOptions Options,
    double? XValue,
    double? Reference,
    TrainingOptions? FineTune);

/// <summary>What the report of a sweep plots and compares.</summary>
/// <param name="XLabel">Name of the swept setting, shown as the first column and the x-axis label.</param>
/// <param name="Metric"><c>test_accuracy</c> or <c>test_loss</c>: the metric plotted against the setting and compared with <see cref="SweepPoint.Reference"/>.</param>
/// <param name="Categorical">Whether the x axis shows the row labels side by side instead of numeric positions.</param>
/// <param name="ReferenceLabel">Legend and column name of the published numbers.</param>
public sealed record SweepReportSpec(string XLabel, string Metric, bool Categorical, string ReferenceLabel);

/// <summary>Several sweeps run as one queue of trials, with one results file and one report.</summary>
public sealed record SweepSuite(string Name, string Title, IReadOnlyList<SweepConfig> Sweeps)
{
    /// <summary>
    /// The configuration files read, as <see cref="SweepConfigReader.ReadFile"/> opened them: the
    /// file given, then for a suite each sweep file in order. Empty for a suite built in code.
    /// </summary>
    public IReadOnlyList<string> Files { get; init; } = [];
}
