using System.Diagnostics;
using System.Text.Json.Nodes;
using DigitNet.Experiments;
using DigitNet.Serialization;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>
/// One uninterrupted run of a tiny sweep (2 rows x 3 seeds, 1 epoch of an 8- or 12-unit network),
/// shared by the tests that compare resumed, killed and sharded runs against it.
/// </summary>
public sealed class TinySweepBaseline : IDisposable
{
    public const string Config = """
        {
          "name": "tiny",
          "title": "Tiny sweep",
          "base": { "epochs": 1, "batch-size": 50, "lr": 0.5 },
          "grid": { "hidden": [[8], [12]] },
          "seeds": [1, 2, 3],
          "report": { "reference": { "8": 0.5 } }
        }
        """;

    private readonly TempDirectory _folder = new();

    public TinySweepBaseline()
    {
        ConfigPath = _folder.Write("tiny.json", System.Text.Encoding.UTF8.GetBytes(Config));
        OutFolder = Path.Combine(_folder.Path, "baseline");
        Result = CliRunner.Run("sweep", "--config", ConfigPath, "--out", OutFolder, "--data", TestData.DigitsMatPath, "--jobs", "2");
    }

    public string ConfigPath { get; }
    public string OutFolder { get; }
    public CliResult Result { get; }

    public void Dispose() => _folder.Dispose();
}

public class SweepCommandTests(TinySweepBaseline baseline) : IClassFixture<TinySweepBaseline>
{
    private const int TrialCount = 6;

    /// <summary>The records of a results file with every timing field removed, by id, for comparing two runs.</summary>
    private static Dictionary<string, string> RecordsWithoutTiming(string path)
    {
        var records = new Dictionary<string, string>();
        foreach (string line in File.ReadAllLines(path).Where(l => l.Length > 0))
        {
            var json = JsonNode.Parse(line)!.AsObject();
            json.Remove("train_seconds");
            foreach (var epoch in json["epochs"]!.AsArray()) epoch!.AsObject().Remove("seconds");
            records[json["id"]!.GetValue<string>()] = json.ToJsonString();
        }
        return records;
    }

    private static string ReportWithoutSeconds(string folder) => SweepMarkdown.WithoutSeconds(File.ReadAllText(Path.Combine(folder, "report.md")));

    private CliResult Sweep(params string[] extra) =>
        CliRunner.Run(["sweep", "--config", baseline.ConfigPath, "--data", TestData.DigitsMatPath, .. extra]);

    private static void AssertSuccess(CliResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    [Fact]
    public void BaselineWritesResultsReportAndFigures()
    {
        AssertSuccess(baseline.Result);
        Assert.Equal(TrialCount, File.ReadAllLines(Path.Combine(baseline.OutFolder, "results.jsonl")).Length);
        string report = File.ReadAllText(Path.Combine(baseline.OutFolder, "report.md"));
        Assert.Contains("| hidden | seeds | test accuracy | test loss | best epoch | report (test accuracy) | seconds |", report);
        Assert.Contains("| 8 | 3 |", report);
        Assert.Contains("| 12 | 3 |", report);
        foreach (string figure in new[] { "tiny-test-accuracy.png", "tiny-curves-accuracy.png", "tiny-curves-loss.png" })
        {
            byte[] png = File.ReadAllBytes(Path.Combine(baseline.OutFolder, figure));
            Assert.True(png.Length > 1000, $"{figure} has only {png.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        }
    }

    [Fact]
    public void RerunFindsEverythingDone()
    {
        AssertSuccess(baseline.Result);
        using var folder = new TempDirectory();
        string outFolder = Path.Combine(folder.Path, "out");
        Directory.CreateDirectory(outFolder);
        File.Copy(Path.Combine(baseline.OutFolder, "results.jsonl"), Path.Combine(outFolder, "results.jsonl"));

        var result = Sweep("--out", outFolder);

        AssertSuccess(result);
        Assert.Contains($"{TrialCount} already in", result.StandardOutput);
        Assert.Contains(", 0 to run", result.StandardOutput);
        Assert.Equal(ReportWithoutSeconds(baseline.OutFolder), ReportWithoutSeconds(outFolder));
    }

    [Fact]
    public void ResumeRunsOnlyMissingTrials()
    {
        AssertSuccess(baseline.Result);
        using var folder = new TempDirectory();
        string outFolder = Path.Combine(folder.Path, "out");
        Directory.CreateDirectory(outFolder);
        string resultsPath = Path.Combine(outFolder, "results.jsonl");

        // Two finished trials, then a third cut off mid-line, as a kill during the write leaves it.
        var lines = File.ReadAllLines(Path.Combine(baseline.OutFolder, "results.jsonl"));
        File.WriteAllText(resultsPath, lines[0] + "\n" + lines[1] + "\n" + lines[2][..(lines[2].Length / 2)]);

        var result = Sweep("--out", outFolder, "--jobs", "2");

        AssertSuccess(result);
        Assert.Contains("2 already in", result.StandardOutput);
        Assert.Contains($", {TrialCount - 2} to run", result.StandardOutput);
        Assert.Contains($"digitnet sweep: note: removed an incomplete last line from {resultsPath} (a run was stopped while writing); that trial runs again\n", result.StandardError);
        Assert.DoesNotContain("incomplete last line", result.StandardOutput);
        Assert.Equal(TrialCount, File.ReadAllLines(resultsPath).Length);
        Assert.Equal(RecordsWithoutTiming(Path.Combine(baseline.OutFolder, "results.jsonl")), RecordsWithoutTiming(resultsPath));
        Assert.Equal(ReportWithoutSeconds(baseline.OutFolder), ReportWithoutSeconds(outFolder));
    }

    [Fact]
    public void KilledSweepResumesToSameResults()
    {
        AssertSuccess(baseline.Result);
        using var folder = new TempDirectory();
        string outFolder = Path.Combine(folder.Path, "out");
        string resultsPath = Path.Combine(outFolder, "results.jsonl");

        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "DigitNet.Cli.dll"), "sweep", "--config", baseline.ConfigPath,
            "--out", outFolder, "--data", TestData.DigitsMatPath, "--jobs", "1", "--quiet" })
        {
            start.ArgumentList.Add(arg);
        }
        using (var process = Process.Start(start)!)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            while (!process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(1)
                && (!File.Exists(resultsPath) || File.ReadAllText(resultsPath).Count(c => c == '\n') < 1))
            {
                Thread.Sleep(20);
            }
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        int saved = File.Exists(resultsPath) ? File.ReadAllText(resultsPath).Count(c => c == '\n') : 0;

        var result = Sweep("--out", outFolder, "--jobs", "2");

        AssertSuccess(result);
        Assert.Contains($"{saved} already in", result.StandardOutput);
        Assert.Equal(RecordsWithoutTiming(Path.Combine(baseline.OutFolder, "results.jsonl")), RecordsWithoutTiming(resultsPath));
        Assert.Equal(ReportWithoutSeconds(baseline.OutFolder), ReportWithoutSeconds(outFolder));
    }

    [Fact]
    public void ThreeShardsMergeToSameReport()
    {
        AssertSuccess(baseline.Result);
        using var folder = new TempDirectory();
        string shardFolder = Path.Combine(folder.Path, "shards");
        string mergedFolder = Path.Combine(folder.Path, "merged");

        for (int shard = 0; shard < 3; shard++)
        {
            var result = Sweep("--out", shardFolder, "--shard", $"{shard}/3", "--jobs", "1");
            AssertSuccess(result);
            Assert.Contains("2 to run", result.StandardOutput);
            Assert.False(File.Exists(Path.Combine(shardFolder, "report.md")), "a shard must not write a report of partial results");
        }
        // Merge in reverse order: the merged file and report must not depend on the order of the inputs.
        var merge = CliRunner.Run("sweep", "merge", "--config", baseline.ConfigPath, "--out", mergedFolder,
            Path.Combine(shardFolder, "results.shard-2-of-3.jsonl"), Path.Combine(shardFolder, "results.shard-1-of-3.jsonl"),
            Path.Combine(shardFolder, "results.shard-0-of-3.jsonl"));

        AssertSuccess(merge);
        Assert.Contains($"{TrialCount} of {TrialCount} trials", merge.StandardOutput);
        Assert.Equal(RecordsWithoutTiming(Path.Combine(baseline.OutFolder, "results.jsonl")), RecordsWithoutTiming(Path.Combine(mergedFolder, "results.jsonl")));
        Assert.Equal(ReportWithoutSeconds(baseline.OutFolder), ReportWithoutSeconds(mergedFolder));
        foreach (string figure in new[] { "tiny-test-accuracy.png", "tiny-curves-accuracy.png", "tiny-curves-loss.png" })
            Assert.True(File.ReadAllBytes(Path.Combine(baseline.OutFolder, figure)).SequenceEqual(File.ReadAllBytes(Path.Combine(mergedFolder, figure))), $"{figure} differs");
    }

    [Fact]
    public void MergeNotesTornInput()
    {
        AssertSuccess(baseline.Result);
        using var folder = new TempDirectory();
        var lines = File.ReadAllLines(Path.Combine(baseline.OutFolder, "results.jsonl"));
        string torn = folder.Write("torn.jsonl", System.Text.Encoding.UTF8.GetBytes(lines[0] + "\n" + lines[1][..(lines[1].Length / 2)]));

        var merge = CliRunner.Run("sweep", "merge", "--config", baseline.ConfigPath, "--out", Path.Combine(folder.Path, "merged"), torn);

        AssertSuccess(merge);
        Assert.Equal($"digitnet sweep: note: {torn} ends in an incomplete line (a run was stopped while writing); it was skipped\n", merge.StandardError);
        Assert.Contains($"1 of {TrialCount} trials", merge.StandardOutput);
    }

    [Fact]
    public void DocumentBlocksAreReplaced()
    {
        AssertSuccess(baseline.Result);
        using var folder = new TempDirectory();
        string outFolder = Path.Combine(folder.Path, "out");
        Directory.CreateDirectory(outFolder);
        File.Copy(Path.Combine(baseline.OutFolder, "results.jsonl"), Path.Combine(outFolder, "results.jsonl"));
        string doc = folder.Write("experiments.md", "# Notes\n\nprose before\n<!-- sweep:tiny -->\nold table\n<!-- /sweep:tiny -->\nprose after\n"u8.ToArray());

        var result = Sweep("--out", outFolder, "--doc", doc, "--images", Path.Combine(folder.Path, "images"));

        AssertSuccess(result);
        string text = File.ReadAllText(doc);
        Assert.StartsWith("# Notes\n\nprose before\n<!-- sweep:tiny -->\n", text);
        Assert.EndsWith("<!-- /sweep:tiny -->\nprose after\n", text);
        Assert.DoesNotContain("old table", text);
        Assert.Contains("| 8 | 3 |", text);
        Assert.Contains("](images/tiny-curves-accuracy.png)", text);
        Assert.True(File.Exists(Path.Combine(folder.Path, "images", "tiny-curves-accuracy.png")));
    }

    [Theory]
    [InlineData("""{"name": "bad", "grid": {"hidden": [[8]]}, "epochs": 1}""", "'epochs'")]
    [InlineData("""{"name": "bad", "base": {"batchsize": 50}, "grid": {"hidden": [[8]]}}""", "'base.batchsize'")]
    [InlineData("""{"name": "bad", "base": {"epochs": "one"}, "grid": {"hidden": [[8]]}}""", "'epochs'")]
    [InlineData("""{"name": "bad", "grid": {"hidden": []}}""", "'hidden'")]
    [InlineData("""{"name": "bad", "grid": {}}""", "'grid'")]
    [InlineData("""{"name": "bad", "grid": {"lr": [0.1, -0.1]}}""", "lr")]
    [InlineData("""{"name": "bad", "base": {"layers": "dense 8, frobnicate, dense 10"}, "grid": {"lr": [0.1]}}""", "frobnicate")]
    [InlineData("""{"name": "bad", "base": {"layers": "dense 8, batchnorm, relu, dense 10", "loss": "cross-entropy", "batch-size": 1}, "grid": {"lr": [0.1]}}""", "layer batchnorm1")]
    [InlineData("""{"name": "bad", "base": {"epochs": 1}, "grid": {"layers": ["dense 10, sigmoid", "dense 10"]}}""", "(bad dense 10 seed 1): --layers: with --loss mse the layer list must end in 'sigmoid'")]
    public void MalformedConfigRunsNothing(string json, string fragment)
    {
        using var folder = new TempDirectory();
        string config = folder.Write("bad.json", System.Text.Encoding.UTF8.GetBytes(json));
        string outFolder = Path.Combine(folder.Path, "out");

        var result = CliRunner.Run("sweep", "--config", config, "--out", outFolder, "--data", TestData.DigitsMatPath);

        Assert.True(result.ExitCode == 2, result.ToString());
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr\n{result}");
        Assert.Contains(fragment, lines[0]);
        Assert.False(File.Exists(Path.Combine(outFolder, "results.jsonl")) && new FileInfo(Path.Combine(outFolder, "results.jsonl")).Length > 0,
            "no trial may run for a malformed configuration");
    }

    [Fact]
    public void OutFileInPlaceOfFolderIsRejected()
    {
        using var folder = new TempDirectory();
        string report = folder.Write("report.md", "# old report\n"u8.ToArray());

        var result = Sweep("--out", report);

        Assert.True(result.ExitCode == 2, result.ToString());
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.Contains($"--out: {report} is a file", lines[0]);
        Assert.Contains("takes a folder", lines[0]);
        Assert.DoesNotContain("already exists", lines[0]);
        Assert.Equal("# old report\n", File.ReadAllText(report));
    }

    [Theory]
    [InlineData("results.jsonl")]
    [InlineData("report.md")]
    public void FifoInOutFolderIsRejected(string name)
    {
        using var folder = new TempDirectory();
        string fifo = Path.Combine(folder.Path, name);
        using (var mkfifo = Process.Start("mkfifo", [fifo]) ?? throw new InvalidOperationException("could not start mkfifo"))
        {
            mkfifo.WaitForExit();
            Assert.True(mkfifo.ExitCode == 0, $"mkfifo {fifo} failed");
        }

        var result = CliRunner.Run(["sweep", "--config", baseline.ConfigPath, "--data", TestData.DigitsMatPath, "--out", folder.Path],
            timeout: TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("FIFO", result.StandardError);
        Assert.Contains(name, result.StandardError);
        Assert.DoesNotContain("test accuracy", result.StandardOutput);
        Assert.Equal(FileKind.Fifo, OutputFile.GetKind(fifo));
    }

    [Fact]
    public void GarbageResultsLineIsNamed()
    {
        using var folder = new TempDirectory();
        string results = folder.Write("results.jsonl", "garbage\n"u8.ToArray());

        var result = Sweep("--out", folder.Path);

        Assert.True(result.ExitCode == 2, result.ToString());
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.Contains($"{results}: line 1 is not a valid trial record: not valid JSON", lines[0]);
        Assert.DoesNotContain("LineNumber", lines[0]);
        Assert.DoesNotContain("BytePositionInLine", lines[0]);
    }

    [Theory]
    [InlineData("3/3")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("-1/3")]
    public void InvalidShardIsRejected(string shard)
    {
        var result = Sweep("--out", Path.Combine(Path.GetTempPath(), "never-created"), "--shard", shard);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--shard", result.StandardError);
    }
}
