using System.Text.RegularExpressions;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Cli;

public partial class HelpTextTests
{
    /// <summary>Options that take no value, so their help row has no placeholder.</summary>
    private static readonly HashSet<string> Flags = ["quiet", "json", "show", "dry-run"];

    /// <summary>An option row: two spaces, the option, an optional placeholder, two or more spaces, the description.</summary>
    [GeneratedRegex(@"^  (--[a-z-]+)( [^ ]+)?( {2,})[^ ]")]
    private static partial Regex OptionRow();

    private static List<(string Option, string? Placeholder, int DescriptionColumn)> OptionRows(string help)
    {
        var rows = new List<(string, string?, int)>();
        foreach (string line in help.Split('\n'))
        {
            var match = OptionRow().Match(line);
            if (!match.Success) continue;
            string? placeholder = match.Groups[2].Success ? match.Groups[2].Value.Trim() : null;
            rows.Add((match.Groups[1].Value, placeholder, match.Length - 1));
        }
        return rows;
    }

    [Theory]
    [InlineData("train")]
    [InlineData("finetune")]
    [InlineData("evaluate")]
    [InlineData("predict")]
    [InlineData("sweep")]
    [InlineData("gallery")]
    public void HelpRowsHavePlaceholdersAndAlign(string command)
    {
        var result = CliRunner.Run(command, "--help");
        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = OptionRows(result.StandardOutput);
        Assert.NotEmpty(rows);

        foreach (var (option, placeholder, _) in rows)
        {
            if (Flags.Contains(option[2..])) continue;
            Assert.True(placeholder is not null, $"{command} --help: {option} takes a value but shows no placeholder\n{result.StandardOutput}");
        }

        int column = rows[0].DescriptionColumn;
        foreach (var (option, _, descriptionColumn) in rows)
            Assert.True(descriptionColumn == column, $"{command} --help: the description of {option} starts in column {descriptionColumn}, expected {column}\n{result.StandardOutput}");
    }

    [Fact]
    public void TrainHelpListsEverySettingWithPlaceholder()
    {
        var result = CliRunner.Run("train", "--help");
        var placeholders = OptionRows(result.StandardOutput).ToDictionary(row => row.Option, row => row.Placeholder);

        foreach (var option in TrainingOptionTable.All)
        {
            Assert.True(placeholders.TryGetValue($"--{option.Name}", out string? placeholder), $"train --help does not list --{option.Name}\n{result.StandardOutput}");
            Assert.False(string.IsNullOrEmpty(placeholder), $"train --help shows --{option.Name} without a placeholder");
        }
    }

    [Fact]
    public void ContinuationLinesStartInDescriptionColumn()
    {
        var result = CliRunner.Run("train", "--help");
        string[] lines = result.StandardOutput.Split('\n');
        int config = Array.FindIndex(lines, line => line.StartsWith("  --config ", StringComparison.Ordinal));
        Assert.True(config >= 0, result.StandardOutput);

        int column = OptionRows(lines[config])[0].DescriptionColumn;
        string next = lines[config + 1];
        Assert.Equal(column, next.Length - next.TrimStart().Length);
    }

    [Fact]
    public void VersionShowsPackageVersion()
    {
        var result = CliRunner.Run("--version");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^digitnet \d+\.\d+\.\d+( \(commit [0-9a-f]{1,7}\))?\n$", result.StandardOutput);
    }
}
