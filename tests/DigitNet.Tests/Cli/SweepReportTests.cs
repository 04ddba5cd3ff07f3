using System.Text;
using System.Text.RegularExpressions;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>Tests of the headings in report.md for a sweep file and for a suite, each from one-epoch runs of an 8-unit network.</summary>
public class SweepReportTests
{
    private static string TinySweep(string name, string title, string description) => $$"""
        {
          "name": "{{name}}",
          "title": "{{title}}",
          "description": "{{description}}",
          "base": { "epochs": 1, "batch-size": 50, "lr": 0.5 },
          "grid": { "hidden": [[8]] },
          "seeds": [1]
        }
        """;

    private static string RunSweep(TempDirectory folder, string configPath)
    {
        string outFolder = Path.Combine(folder.Path, "out");
        var result = CliRunner.Run("sweep", "--config", configPath, "--out", outFolder, "--data", TestData.DigitsMatPath, "--jobs", "1", "--quiet");
        Assert.True(result.ExitCode == 0, result.ToString());
        return File.ReadAllText(Path.Combine(outFolder, "report.md"));
    }

    private static int Count(string text, string fragment) => Regex.Matches(text, Regex.Escape(fragment)).Count;

    [Fact]
    public void SweepFileReportShowsTitleOnce()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("tiny.json", Encoding.UTF8.GetBytes(TinySweep("tiny", "Tiny sweep", "One row, one seed.")));

        string report = RunSweep(folder, config);

        Assert.StartsWith("# Tiny sweep\n\nOne row, one seed.\n\n", report);
        Assert.True(Count(report, "Tiny sweep") == 1, $"the title should appear once\n{report}");
        Assert.True(Count(report, "One row, one seed.") == 1, $"the description should appear once\n{report}");
        Assert.Contains("| 8 | 1 |", report);
    }

    [Fact]
    public void SuiteReportHasSectionPerSweep()
    {
        using var folder = new TempDirectory();
        folder.Write("first.json", Encoding.UTF8.GetBytes(TinySweep("first", "First sweep", "The first table.")));
        folder.Write("second.json", Encoding.UTF8.GetBytes(TinySweep("second", "Second sweep", "The second table.")));
        string suite = folder.Write("suite.json", """{ "name": "both", "title": "Both sweeps", "sweeps": ["first.json", "second.json"] }"""u8.ToArray());

        string report = RunSweep(folder, suite);

        Assert.StartsWith("# Both sweeps\n\n", report);
        Assert.Contains("## First sweep\n\nThe first table.\n\n", report);
        Assert.Contains("## Second sweep\n\nThe second table.\n\n", report);
        Assert.Equal(1, Count(report, "Both sweeps"));
    }
}
