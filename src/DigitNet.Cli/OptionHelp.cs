using System.Text;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>
/// Formats the option list of a command's --help: a label such as <c>--epochs N</c> and its
/// description, in two aligned columns.
/// </summary>
public static class OptionHelp
{
    /// <summary>Spaces between the longest label and its description.</summary>
    private const int ColumnGap = 2;


    /// <summary>
    /// Returns the placeholder for the value of <paramref name="option"/>: its own, such as RATE
    /// for --lr, or else one for its value kind, such as N for --epochs, so it never shows bare.
    /// </summary>
    public static string Placeholder(TrainingOption option)
    {
        if (option.Placeholder is { } placeholder) return placeholder;
        return option.Kind switch
        {
            OptionValueKind.Integer => "N",
            OptionValueKind.Number => "X",
            OptionValueKind.Boolean => "BOOL",
            OptionValueKind.IntegerList or OptionValueKind.NumberList => "LIST",
            _ => "VALUE",
        };
    }

    /// <summary>Returns the help row of a training setting: <c>--name PLACEHOLDER</c> and its help text.</summary>
    public static (string Label, string Description) Row(TrainingOption option) =>
        ($"--{option.Name} {Placeholder(option)}", option.Help);

    /// <summary>Returns the label column width that fits every label in <paramref name="rows"/> and the gap after it.</summary>
    public static int LabelWidth(IEnumerable<(string Label, string Description)> rows) =>
        rows.Max(row => row.Label.Length) + ColumnGap;

    /// <summary>
    /// Appends <paramref name="rows"/> indented by two spaces, with every description starting in
    /// the same column. A description may contain '\n', and each line after it is indented to that column.
    /// Pass <paramref name="labelWidth"/> to align several lists with each other.
    /// </summary>
    public static void Append(StringBuilder text, IReadOnlyList<(string Label, string Description)> rows, int? labelWidth = null)
    {
        int width = labelWidth ?? LabelWidth(rows);
        string continuation = new(' ', 2 + width);
        foreach (var (label, description) in rows)
        {
            string[] lines = description.Split('\n');
            text.Append("  ").Append(label.PadRight(width)).AppendLine(lines[0]);
            foreach (string line in lines.Skip(1))
                text.Append(continuation).AppendLine(line);
        }
    }
}
