using System.Runtime.Versioning;
using System.Text;
using System.Text.Json.Nodes;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>
/// Tests of how sweep reports diverged trials, invalid settings, unwritable outputs and files of
/// the wrong kind, each with one-epoch runs of small networks.
/// </summary>
public class SweepErrorTests
{
    /// <summary>Cross-entropy on two stacked linear layers with batch size 1 and lr 0.2: the loss becomes NaN in epoch 1.</summary>
    private const string DivergingConfig = """{ "name": "nanmin", "base": {"epochs": 1, "loss": "cross-entropy", "layers": "dense 10, dense 10"} }""";

    private const string TinyConfig = """{ "name": "tiny", "base": {"epochs": 1, "hidden": [8], "batch-size": 50, "lr": 0.5} }""";

    private static CliResult Sweep(string config, string outFolder, params string[] extra) =>
        CliRunner.Run(["sweep", "--config", config, "--out", outFolder, "--data", TestData.DigitsMatPath, "--jobs", "1", .. extra]);

    private static CliResult SweepWithFilePermissions(string config, string outFolder, params string[] extra) =>
        CliRunner.RunWithFilePermissions(["sweep", "--config", config, "--out", outFolder, "--data", TestData.DigitsMatPath, "--jobs", "1", .. extra]);

    private static void AssertOneError(CliResult result, string message)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"digitnet sweep: error: {message}\n", result.StandardError);
    }

    [Fact]
    public void DivergedTrialIsRecordedAndReported()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("nanmin.json", Encoding.UTF8.GetBytes(DivergingConfig));
        string outFolder = Path.Combine(folder.Path, "out");
        string resultsPath = Path.Combine(outFolder, "results.jsonl");

        var result = Sweep(config, outFolder);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("seed 1: diverged in epoch 1 (the loss became NaN or infinite), no test result", result.StandardOutput);
        Assert.Contains(", 1 diverged\n", result.StandardOutput);
        Assert.StartsWith("digitnet sweep: warning: 1 trial diverged (the loss became NaN or infinite) and has no test result;", result.StandardError);

        var record = JsonNode.Parse(File.ReadAllLines(resultsPath).Single())!.AsObject();
        Assert.Equal("diverged", record["stop_reason"]!.GetValue<string>());
        Assert.Equal(1, record["diverged_epoch"]!.GetValue<int>());
        foreach (string metric in new[] { "test_accuracy", "test_loss", "best_epoch" })
        {
            Assert.True(record.ContainsKey(metric), $"the record has no '{metric}'");
            Assert.Null(record[metric]);
        }

        string report = File.ReadAllText(Path.Combine(outFolder, "report.md"));
        Assert.Contains("| base | 1 (1 diverged) | – | – | – | – |", report);
        Assert.Contains("1 trial of this sweep diverged", report);
    }

    [Fact]
    public void DivergedTrialResumesAndMerges()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("nanmin.json", Encoding.UTF8.GetBytes(DivergingConfig));
        string outFolder = Path.Combine(folder.Path, "out");
        string resultsPath = Path.Combine(outFolder, "results.jsonl");
        var first = Sweep(config, outFolder);
        Assert.True(first.ExitCode == 0, first.ToString());

        var rerun = Sweep(config, outFolder);

        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Contains("1 already in", rerun.StandardOutput);
        Assert.Contains(", 0 to run", rerun.StandardOutput);

        string mergedFolder = Path.Combine(folder.Path, "merged");
        var merge = CliRunner.Run("sweep", "merge", "--config", config, "--out", mergedFolder, resultsPath);

        Assert.True(merge.ExitCode == 0, merge.ToString());
        Assert.Contains("merged 1 file: 1 of 1 trial of nanmin", merge.StandardOutput);
        Assert.Equal(File.ReadAllText(resultsPath), File.ReadAllText(Path.Combine(mergedFolder, "results.jsonl")));
        Assert.Contains("| base | 1 (1 diverged) |", File.ReadAllText(Path.Combine(mergedFolder, "report.md")));
    }

    [Fact]
    public void OneTrialSweepUsesSingular()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("tiny.json", Encoding.UTF8.GetBytes(TinyConfig));

        var result = Sweep(config, Path.Combine(folder.Path, "out"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("sweep tiny: 1 trial; 0 already in ", result.StandardOutput);
        Assert.Contains(", 1 to run with 1 job x 1 thread\n", result.StandardOutput);
        Assert.Contains("\nran 1 trial in ", result.StandardOutput);
        Assert.DoesNotContain("(s)", result.StandardOutput);
    }

    [Fact]
    public void TrialErrorNamesRow()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("bs.json", """
            { "name": "bs", "base": {"epochs": 1, "layers": "dense 8, batchnorm, relu, dense 10", "loss": "cross-entropy"},
              "grid": {"batch-size": [50, 1]} }
            """u8.ToArray());

        var result = Sweep(config, Path.Combine(folder.Path, "out"));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Matches(@"^digitnet sweep: error: trial [0-9a-f]{16} \(bs 1 seed 1\): --batch-size 1: layer batchnorm1 ", result.StandardError);
        Assert.DoesNotContain("test accuracy", result.StandardOutput);
    }

    [Fact]
    public void MergeRejectsConfigAsResults()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("tiny.json", Encoding.UTF8.GetBytes(TinyConfig));

        var result = CliRunner.Run("sweep", "merge", "--config", config, "--out", Path.Combine(folder.Path, "merged"), config);

        AssertOneError(result, $"{config}: this is a sweep configuration, not a results file; give the results.jsonl files that digitnet sweep wrote");
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "merged")), "a rejected merge must write nothing");
    }

    [SkippableFact]
    [UnsupportedOSPlatform("windows")]
    public void OutInReadOnlyFolderIsRejected()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("tiny.json", Encoding.UTF8.GetBytes(TinyConfig));
        string readOnly = Path.Combine(folder.Path, "ro");
        Directory.CreateDirectory(readOnly);
        string outFolder = Path.Combine(readOnly, "out");
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var result = SweepWithFilePermissions(config, outFolder);

            AssertOneError(result, $"--out: cannot create folder {outFolder} in {readOnly} (permission denied); choose another location");
        }
        finally
        {
            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [SkippableFact]
    [UnsupportedOSPlatform("windows")]
    public void ReadOnlyImagesFolderIsRejected()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("tiny.json", Encoding.UTF8.GetBytes(TinyConfig));
        string images = Path.Combine(folder.Path, "images");
        Directory.CreateDirectory(images);
        string outFolder = Path.Combine(folder.Path, "out");
        File.SetUnixFileMode(images, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var result = SweepWithFilePermissions(config, outFolder, "--images", images);

            AssertOneError(result, $"--images: cannot write to folder {images} (permission denied); choose another location");
            Assert.False(File.Exists(Path.Combine(outFolder, "results.jsonl")), "no trial may run before the --images folder is checked");
        }
        finally
        {
            File.SetUnixFileMode(images, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [SkippableTheory]
    [InlineData(UnixFileMode.None, "make the file readable")]
    [InlineData(UnixFileMode.UserRead, "make the file writable")]
    [UnsupportedOSPlatform("windows")]
    public void InaccessibleResultsFileIsRejected(UnixFileMode mode, string fix)
    {
        using var folder = new TempDirectory();
        string config = folder.Write("tiny.json", Encoding.UTF8.GetBytes(TinyConfig));
        string outFolder = Path.Combine(folder.Path, "out");
        Directory.CreateDirectory(outFolder);
        string resultsPath = Path.Combine(outFolder, "results.jsonl");
        File.WriteAllBytes(resultsPath, []);
        File.SetUnixFileMode(resultsPath, mode);

        var result = SweepWithFilePermissions(config, outFolder);

        AssertOneError(result, $"--out: permission denied: {resultsPath}; {fix}");
    }
}
