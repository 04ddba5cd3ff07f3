using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DigitNet.Training;

namespace DigitNet.Experiments;

/// <summary>
/// Renders a <see cref="SweepSummary"/> as Markdown: a heading, the settings every row shares, and
/// a table of test accuracy and loss (mean ± sample standard deviation over seeds), mean best epoch,
/// the published number where known, and mean training seconds. The seconds column comes last
/// and is the only part that differs between two runs of the same trials.
/// </summary>
public static class SweepMarkdown
{
    /// <summary>Header text of the seconds column, which comparisons of reports leave out.</summary>
    public const string SecondsHeader = "seconds";

    /// <summary>
    /// Returns the section of <paramref name="summary"/>. <paramref name="images"/> are (caption,
    /// relative path) pairs shown below the table. With a <paramref name="headingPrefix"/> such as
    /// <c>##</c> the section starts with the sweep's title and description; with null it starts at
    /// the settings line, for documents that have their own heading and prose.
    /// </summary>
    public static string Render(SweepSummary summary, IReadOnlyList<(string Caption, string Path)> images, string? headingPrefix)
    {
        var sweep = summary.Sweep;
        var text = new StringBuilder();
        if (headingPrefix is not null)
        {
            text.Append(headingPrefix).Append(' ').Append(sweep.Title).Append('\n').Append('\n');
            if (sweep.Description.Length > 0) text.Append(sweep.Description).Append('\n').Append('\n');
        }

        string shared = SharedSettings(sweep);
        string seeds = string.Join(", ", sweep.Seeds);
        text.Append(Invariant($"Seeds {seeds}. Settings of every row (besides the defaults): {(shared.Length > 0 ? $"`{shared}`" : "none")}.\n"));
        if (summary.Rows.Any(r => r.Point.FineTune is not null))
            text.Append("Fine-tuning rows train as given, then freeze every layer except the last and train again with the `finetune` settings; their epochs continue the first stage's numbering.\n");
        text.Append('\n');

        bool hasReference = summary.Rows.Any(r => r.Point.Reference is not null);
        string metricName = sweep.Report.Metric == "test_loss" ? "test loss" : "test accuracy";
        var header = new List<string> { Escape(sweep.Report.XLabel), "seeds", "test accuracy", "test loss", "best epoch" };
        if (hasReference) header.Add($"{Escape(sweep.Report.ReferenceLabel)} ({metricName})");
        header.Add(SecondsHeader);
        AppendRow(text, header);
        AppendRow(text, header.Select((_, i) => i == 0 ? "---" : "---:").ToList());

        foreach (var row in summary.Rows)
        {
            string seedCount = row.Found == row.Expected ? Invariant($"{row.Found}") : Invariant($"{row.Found}/{row.Expected}");
            if (row.Diverged > 0) seedCount += Invariant($" ({row.Diverged} diverged)");
            var cells = new List<string>
            {
                Escape(row.Point.Label),
                seedCount,
                FormatMeanStd(row.TestAccuracy, 4),
                FormatMeanStd(row.TestLoss, 4),
                row.WithMetrics == 0 ? "–" : row.BestEpoch.Mean.ToString("F1", CultureInfo.InvariantCulture),
            };
            if (hasReference) cells.Add(row.Point.Reference is { } reference ? reference.ToString("0.0####", CultureInfo.InvariantCulture) : "");
            cells.Add(row.WithMetrics == 0 ? "–" : row.Seconds.Mean.ToString("F1", CultureInfo.InvariantCulture));
            AppendRow(text, cells);
        }

        if (summary.DivergedTrials > 0)
        {
            text.Append('\n').Append(Invariant($"{Count(summary.DivergedTrials, "trial")} of this sweep diverged: the loss became NaN or infinite, "))
                .Append("so there is no test result. The seeds column counts diverged trials, and the other columns and the figures leave them out.\n");
        }
        if (summary.MissingTrials > 0)
        {
            string verb = summary.MissingTrials == 1 ? "has" : "have";
            text.Append('\n').Append(Invariant($"{Count(summary.MissingTrials, "trial")} of this sweep {verb} no result yet; the seeds column shows how many each row has.\n"));
        }

        if (images.Count > 0)
        {
            text.Append('\n');
            foreach (var (caption, path) in images) text.Append(Invariant($"![{caption}]({path.Replace('\\', '/')})\n"));
        }
        return text.ToString();
    }

    /// <summary>
    /// Removes the seconds column from every table row of <paramref name="markdown"/>, so that two
    /// reports of the same trials can be compared byte for byte.
    /// </summary>
    public static string WithoutSeconds(string markdown)
    {
        var lines = markdown.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (!line.StartsWith('|') || !line.EndsWith('|')) continue;
            int lastSeparator = line.LastIndexOf('|', line.Length - 2);
            lines[i] = line[..(lastSeparator + 1)];
        }
        return string.Join('\n', lines);
    }

    /// <summary>Formats a mean ± standard deviation; one seed shows the value alone and none shows a dash.</summary>
    public static string FormatMeanStd(MeanStd value, int decimals)
    {
        if (value.Count == 0) return "–";
        string format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        string mean = value.Mean.ToString(format, CultureInfo.InvariantCulture);
        return double.IsNaN(value.Std) ? mean : $"{mean} ± {value.Std.ToString(format, CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// The settings that every row of <paramref name="sweep"/> has in common and that differ from
    /// the defaults, as <c>name=value</c> pairs in the order of <see cref="TrainingOptionTable.All"/>.
    /// </summary>
    public static string SharedSettings(SweepConfig sweep)
    {
        var defaults = TrainingOptionTable.ToJson(new TrainingOptions());
        var rows = sweep.Points.Select(p => TrainingOptionTable.ToJson(p.Options)).ToList();
        var parts = new List<string>();
        foreach (var option in TrainingOptionTable.All)
        {
            if (option.Name is "seed" or "threads" or "data") continue;
            var first = rows[0][option.Name];
            if (!rows.All(r => JsonNode.DeepEquals(r[option.Name], first))) continue;
            if (JsonNode.DeepEquals(first, defaults[option.Name])) continue;
            string value = ValueText(first);
            parts.Add(value.Contains(' ') ? $"{option.Name}=\"{value}\"" : $"{option.Name}={value}");
        }
        return string.Join(" ", parts);
    }

    private static string ValueText(JsonNode? value) => value switch
    {
        null => "",
        JsonArray array => string.Join(",", array.Select(ValueText)),
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => value.ToJsonString(),
    };

    /// <summary>Returns <paramref name="count"/> and <paramref name="noun"/>, with an "s" unless the count is 1, such as "1 trial" or "3 trials".</summary>
    public static string Count(int count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");

    private static void AppendRow(StringBuilder text, IReadOnlyList<string> cells) =>
        text.Append("| ").Append(string.Join(" | ", cells)).Append(" |\n");

    private static string Escape(string cell) => cell.Replace("|", "\\|");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
