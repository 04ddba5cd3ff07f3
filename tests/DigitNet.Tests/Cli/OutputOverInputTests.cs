using System.Diagnostics;
using DigitNet.Data;
using DigitNet.Serialization;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Cli;

/// <summary>A model file of a 256-5-10 network trained for one epoch, valid input for finetune.</summary>
public sealed class SmallModelFixture : IDisposable
{
    private readonly TempDirectory _folder = new();

    public SmallModelFixture()
    {
        var outcome = TrainingRun.Run(new TrainingOptions { Hidden = [5], Epochs = 1 }, DigitsMat.Load(TestData.DigitsMatPath));
        ModelPath = Path.Combine(_folder.Path, "small.safetensors");
        ModelFile.Save(ModelPath, outcome.Network, outcome.Preprocessing, outcome.Loss.Name, DigitsMat.ClassNames);
    }

    public string ModelPath { get; }

    public void Dispose() => _folder.Dispose();
}

/// <summary>
/// Outputs that name one of the command's inputs, directly or through a link, are rejected before
/// any work, and the input keeps its content: the model and --config file of finetune, the
/// --config file of train and gallery, and the configuration, data, results and --doc files of sweep.
/// </summary>
public sealed class OutputOverInputTests(SmallModelFixture fixture) : IClassFixture<SmallModelFixture>, IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private static void AssertRejected(CliResult result, string command, string message)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2\n{result}");
        Assert.Equal($"digitnet {command}: error: {message}\n", result.StandardError);
        Assert.DoesNotContain("epoch", result.StandardOutput);
    }

    /// <summary>Ways to name the model file a second time: the same path, another spelling, a symbolic link and a hard link.</summary>
    public static TheoryData<string> ModelAliases() => ["same path", "dot folder", "symbolic link", "hard link"];

    [Theory]
    [MemberData(nameof(ModelAliases))]
    public void FinetuneOutNamingModelIsRejected(string alias)
    {
        string model = Path.Combine(_folder.Path, "model.safetensors");
        File.Copy(fixture.ModelPath, model);
        string output = Path.Combine(_folder.Path, "output.safetensors");
        switch (alias)
        {
            case "same path":
                output = model;
                break;
            case "dot folder":
                output = Path.Combine(_folder.Path, ".", "model.safetensors");
                break;
            case "symbolic link":
                File.CreateSymbolicLink(output, model);
                break;
            case "hard link":
                using (var process = Process.Start("ln", [model, output]) ?? throw new InvalidOperationException("could not start ln"))
                {
                    process.WaitForExit();
                    Assert.True(process.ExitCode == 0, $"ln {model} {output} failed");
                }
                break;
        }

        var result = CliRunner.Run("finetune", "--model", model, "--out", output, "--data", TestData.DigitsMatPath, "--epochs", "1");

        AssertRejected(result, "finetune", $"--model and --out both name {output}; give each its own file");
        Assert.Equal(File.ReadAllBytes(fixture.ModelPath), File.ReadAllBytes(model));
    }

    private const string ConfigArgument = "{config}";

    /// <summary>Commands whose output option names their --config file, with the option.</summary>
    public static TheoryData<string[], string> ConfigOutputCases() => new()
    {
        { ["train", "--epochs", "1", "--metrics", ConfigArgument], "--metrics" },
        { ["train", "--epochs", "1", "--out", ConfigArgument], "--out" },
        { ["train", "--epochs", "1", "--plot", ConfigArgument], "--plot" },
        { ["finetune", "--model", "{model}", "--out", ConfigArgument], "--out" },
        { ["gallery", "--out", ConfigArgument], "--out" },
    };

    [Theory]
    [MemberData(nameof(ConfigOutputCases))]
    public void OutputNamingConfigIsRejected(string[] command, string option)
    {
        // Seed is a setting that every one of these commands uses, so the file itself is valid for each.
        byte[] content = """{"seed": 2}"""u8.ToArray();
        string config = _folder.Write("settings.json", content);
        var args = command.Select(arg => arg switch { ConfigArgument => config, "{model}" => fixture.ModelPath, _ => arg })
            .Concat(["--config", config, "--data", TestData.DigitsMatPath]);

        var result = CliRunner.Run(args);

        AssertRejected(result, command[0], $"--config and {option} both name {config}; give each its own file");
        Assert.Equal(content, File.ReadAllBytes(config));
    }

    private const string SweepConfig = """{"name": "tiny", "base": {"hidden": [5], "epochs": 1}, "grid": {"lr": [0.5]}}""";

    /// <summary>
    /// Sweep cases by name: the command line and the message that names the two options, with
    /// {config}, {suite}, {out} and {folder} for the sweep file, the suite file, the --out folder and
    /// the temporary folder.
    /// </summary>
    public static TheoryData<string, string[], string> SweepCases() => new()
    {
        { "--doc over --config", ["sweep", "--config", "{config}", "--out", "{out}", "--doc", "{config}"], "--config and --doc both name {config}" },
        { "report over --doc", ["sweep", "--config", "{config}", "--out", "{out}", "--doc", "{out}/report.md"], "--doc and --out both name {out}/report.md" },
        { "figure over --config", ["sweep", "--config", "{out}/tiny-curves-loss.png", "--out", "{out}"], "--config and --out both name {out}/tiny-curves-loss.png" },
        { "figure over a suite's sweep file", ["sweep", "--config", "{suite}", "--out", "{out}", "--images", "{folder}"], "{suite}: sweeps[0] and --images both name {folder}/tiny-test-accuracy.png" },
        { "results over --data", ["sweep", "--config", "{config}", "--out", "{out}", "--data", "{out}/results.jsonl"], "--data and --out both name {out}/results.jsonl" },
        { "merge report over a results file", ["sweep", "merge", "--config", "{config}", "--out", "{out}", "{out}/report.md"], "results file and --out both name {out}/report.md" },
        { "merge results over --doc", ["sweep", "merge", "--config", "{config}", "--out", "{out}", "--doc", "{out}/results.jsonl", "{out}/results.jsonl"], "--doc and --out both name {out}/results.jsonl" },
    };

    [Theory]
    [MemberData(nameof(SweepCases))]
    public void SweepOutputNamingInputIsRejected(string name, string[] command, string message)
    {
        string outFolder = Path.Combine(_folder.Path, "out");
        Directory.CreateDirectory(outFolder);
        byte[] sweep = System.Text.Encoding.UTF8.GetBytes(SweepConfig);
        string config = _folder.Write("tiny.json", sweep);
        string suite = _folder.Write("suite.json", """{"name": "suite", "sweeps": ["tiny-test-accuracy.png"]}"""u8.ToArray());

        // Every file that a case names contains what a command could read, so each case gets
        // past its input checks. The sweep file of the suite is named like a figure of that sweep.
        var files = new Dictionary<string, byte[]>
        {
            [Path.Combine(outFolder, "tiny-curves-loss.png")] = sweep,
            [Path.Combine(_folder.Path, "tiny-test-accuracy.png")] = sweep,
            [Path.Combine(outFolder, "report.md")] = "# notes\n"u8.ToArray(),
            [Path.Combine(outFolder, "results.jsonl")] = File.ReadAllBytes(TestData.DigitsMatPath),
        };
        if (name.StartsWith("merge", StringComparison.Ordinal))
            files[Path.Combine(outFolder, "results.jsonl")] = [];
        foreach (var (path, content) in files)
            File.WriteAllBytes(path, content);

        string Fill(string text) => text.Replace("{config}", config).Replace("{suite}", suite)
            .Replace("{out}", outFolder).Replace("{folder}", _folder.Path);
        var args = command.Select(Fill).ToList();
        if (!name.StartsWith("merge", StringComparison.Ordinal) && !args.Contains("--data"))
            args.AddRange(["--data", TestData.DigitsMatPath]);

        var result = CliRunner.Run(args);

        AssertRejected(result, "sweep", $"{Fill(message)}; give each its own file");
        Assert.Equal(sweep, File.ReadAllBytes(config));
        foreach (var (path, content) in files)
            Assert.True(content.SequenceEqual(File.ReadAllBytes(path)), $"{path} changed\n{result}");
    }
}
