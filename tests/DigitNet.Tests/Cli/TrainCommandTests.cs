using System.Text.Json;
using DigitNet.Data.Formats;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

public class TrainCommandTests
{
    /// <summary>Asserts exit code 2 and a single-line error on standard error that contains every fragment.</summary>
    private static void AssertInputError(CliResult result, params string[] fragments)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2\n{result}");
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr\n{result}");
        Assert.DoesNotContain("   at ", result.StandardError);
        foreach (string fragment in fragments)
            Assert.True(lines[0].Contains(fragment, StringComparison.Ordinal), $"stderr should mention '{fragment}'\n{result}");
    }

    [Fact]
    public void MissingDataFileIsRejected()
    {
        var result = CliRunner.Run("train", "--data", "/nonexistent/digits.mat");
        AssertInputError(result, "/nonexistent/digits.mat");
    }

    [Fact]
    public void MissingDefaultDataExplainsWhereItLooked()
    {
        using var folder = new TempDirectory();
        var result = CliRunner.Run(["train"], workingDirectory: folder.Path);
        AssertInputError(result, "DIGITNET_DATA", "--data");
    }

    [Fact]
    public void TextFileIsNotAMatFile()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("notes.mat", "these are not pixels\n"u8.ToArray());
        AssertInputError(CliRunner.Run("train", "--data", path), "notes.mat");
    }

    [Fact]
    public void TruncatedDigitsMatIsRejected()
    {
        using var folder = new TempDirectory();
        byte[] whole = File.ReadAllBytes(TestData.DigitsMatPath);
        string path = folder.Write("digits.mat", whole[..(whole.Length / 2)]);
        AssertInputError(CliRunner.Run("train", "--data", path), "digits.mat");
    }

    [Theory]
    [InlineData("X")]
    [InlineData("y")]
    [InlineData("ytest")]
    public void MissingVariableIsNamed(string variable)
    {
        using var folder = new TempDirectory();
        string path = SmallDigits.Create(skip: variable).Save(folder.Path, "small.mat");
        AssertInputError(CliRunner.Run("train", "--data", path), "small.mat", $"'{variable}'");
    }

    [Fact]
    public void OversizedBatchGetsNote()
    {
        using var folder = new TempDirectory();
        string path = SmallDigits.Create().Save(folder.Path, "small.mat");

        var result = CliRunner.Run("train", "--data", path, "--batch-size", "100000", "--epochs", "1");
        Assert.True(result.ExitCode == 0, result.ToString());
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("digitnet train: note: --batch-size 100000 is larger than the 20 training samples, so each epoch is one batch of all 20", lines);

        var fitting = CliRunner.Run("train", "--data", path, "--batch-size", "20", "--epochs", "1");
        Assert.True(fitting.ExitCode == 0, fitting.ToString());
        Assert.DoesNotContain("note:", fitting.StandardError);
    }

    [Fact]
    public void OversizedBatchNoteCountsCopies()
    {
        using var folder = new TempDirectory();
        string path = SmallDigits.Create().Save(folder.Path, "small.mat");

        // 20 samples and one rotated copy of each: 40, so a batch of 30 takes two batches, not one.
        var fitting = CliRunner.Run("train", "--data", path, "--batch-size", "30", "--rotated-copies", "90", "--epochs", "1");
        Assert.True(fitting.ExitCode == 0, fitting.ToString());
        Assert.DoesNotContain("note:", fitting.StandardError);

        var oversized = CliRunner.Run("train", "--data", path, "--batch-size", "50", "--rotated-copies", "90", "--epochs", "1");
        Assert.True(oversized.ExitCode == 0, oversized.ToString());
        string[] lines = oversized.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("digitnet train: note: --batch-size 50 is larger than the 40 training samples (20 plus 20 rotated copies), so each epoch is one batch of all 40", lines);
    }

    [Fact]
    public void LabelOutOfRangeIsNamed()
    {
        using var folder = new TempDirectory();
        string path = SmallDigits.Create((name, values) => { if (name == "yvalid") values[3] = 11; }).Save(folder.Path, "labels.mat");
        AssertInputError(CliRunner.Run("train", "--data", path), "labels.mat", "yvalid", "11");
    }

    [Fact]
    public void NanPixelIsNamed()
    {
        using var folder = new TempDirectory();
        var writer = new MatWriter();
        var small = SmallDigits.Create(skip: "X");
        var pixels = new double[20 * 256];
        pixels[5] = double.NaN;
        // Doubles keep the NaN, which an integer storage type could not hold.
        small.Add("X", [20, 256], pixels, MatDataType.Double, compressed: true);
        string path = small.Save(folder.Path, "nan.mat");
        AssertInputError(CliRunner.Run("train", "--data", path), "nan.mat", "X", "NaN");
    }

    [Theory]
    [InlineData("--learning-rate", "0.1", "--learning-rate")]
    [InlineData("--activation", "softsign", "softsign")]
    [InlineData("--lr", "-1", "--lr")]
    [InlineData("--hidden", "10,x", "--hidden")]
    [InlineData("--epochs", "0", "--epochs")]
    [InlineData("--epochs", "99999999999", "from 1 to 2147483647")]
    [InlineData("--threads", "100000", "from 0 to 1024")]
    [InlineData("--threads", "-1", "from 0 to 1024")]
    [InlineData("--loss", "hinge", "hinge")]
    [InlineData("--layers", "dense 10, wobble", "wobble")]
    public void BadOptionIsNamed(string option, string value, string expected)
    {
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, option, value);
        AssertInputError(result, expected);
    }

    [Fact]
    public void FinetuneThreadsAboveLimitIsRejected()
    {
        var result = CliRunner.Run("finetune", "--model", "missing.safetensors", "--out", "unused.safetensors", "--threads", "100000");
        AssertInputError(result, "--threads", "'100000'", "from 0 to 1024");
    }

    [Fact]
    public void OptionWithoutValueIsRejected()
    {
        AssertInputError(CliRunner.Run("train", "--epochs"), "--epochs");
    }

    [Fact]
    public void ConfigFileUnknownKeyIsNamed()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("config.json", """{"epochs": 2, "learning_rate": 0.1}"""u8.ToArray());
        AssertInputError(CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--config", config), "learning_rate");
    }

    [Fact]
    public void ConfigFileWrongTypeIsNamed()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("config.json", """{"epochs": "two"}"""u8.ToArray());
        AssertInputError(CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--config", config), "epochs");
    }

    [Theory]
    [InlineData("""{"epochs": 1.5}""", "config.json: key 'epochs': invalid value '1.5'; expected an integer from 1")]
    [InlineData("""{"epochs": 0}""", "config.json: key 'epochs': invalid value '0'")]
    [InlineData("""{"lr": -1}""", "config.json: key 'lr': invalid value '-1'")]
    public void ConfigFileBadValueNamesFileAndKey(string json, string expected)
    {
        using var folder = new TempDirectory();
        string config = folder.Write("config.json", System.Text.Encoding.UTF8.GetBytes(json));
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--config", config);
        AssertInputError(result, expected);
        Assert.DoesNotContain("--epochs", result.StandardError);
        Assert.DoesNotContain("--lr", result.StandardError);
    }

    [Fact]
    public void DataVariableFolderIsNamedAsFolder()
    {
        using var folder = new TempDirectory();
        var result = CliRunner.Run(["train"], environment: new Dictionary<string, string?> { ["DIGITNET_DATA"] = folder.Path });
        AssertInputError(result, "$DIGITNET_DATA", $"{folder.Path} is a folder");
    }

    [Theory]
    [InlineData("train", "--metrics", "metrics.json")]
    [InlineData("train", "--plot", "curves.png")]
    [InlineData("gallery", "--out", "gallery.png")]
    [InlineData("evaluate", "--plot", "evaluation.png")]
    public void OutputFolderSuggestsMatchingFileName(string command, string option, string fileName)
    {
        using var folder = new TempDirectory();
        string[] model = command == "evaluate" ? ["--model", "missing.safetensors"] : [];
        var result = CliRunner.Run([command, .. model, option, folder.Path, "--data", TestData.DigitsMatPath]);
        AssertInputError(result, option, "is a folder", Path.Combine(folder.Path, fileName));
    }

    [Fact]
    public void CommandLineOverridesConfigFile()
    {
        using var folder = new TempDirectory();
        string config = folder.Write("config.json", """{"epochs": 3, "hidden": [12], "batch-size": 50, "lr": 0.5}"""u8.ToArray());
        string metrics = Path.Combine(folder.Path, "metrics.json");
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--config", config, "--epochs", "1", "--metrics", metrics, "--quiet");
        Assert.True(result.ExitCode == 0, result.ToString());

        using var json = JsonDocument.Parse(File.ReadAllText(metrics));
        var settings = json.RootElement.GetProperty("settings");
        Assert.Equal(1, settings.GetProperty("epochs").GetInt32());
        Assert.Equal(50, settings.GetProperty("batch-size").GetInt32());
        Assert.Equal(12, settings.GetProperty("hidden")[0].GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("epochs").GetArrayLength());
    }

    [Fact]
    public void BaselineReachesReportAccuracy()
    {
        using var folder = new TempDirectory();
        string metrics = Path.Combine(folder.Path, "metrics.json");
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--metrics", metrics);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("epoch 10/10", result.StandardOutput);
        Assert.Contains("test accuracy", result.StandardOutput);

        using var json = JsonDocument.Parse(File.ReadAllText(metrics));
        var root = json.RootElement;
        var epochs = root.GetProperty("epochs");
        Assert.Equal(10, epochs.GetArrayLength());
        foreach (string key in new[] { "epoch", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "seconds" })
            Assert.True(epochs[0].TryGetProperty(key, out _), $"epoch entry lacks '{key}'");
        Assert.Equal(10, root.GetProperty("best_epoch").GetInt32());
        Assert.True(root.GetProperty("train_seconds").GetDouble() > 0);
        double accuracy = root.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.94, $"baseline test accuracy {accuracy} is below 0.94");
        Assert.InRange(root.GetProperty("test_loss").GetDouble(), 0, 0.1);
    }

    [Fact]
    public void SameSeedGivesIdenticalMetrics()
    {
        using var folder = new TempDirectory();
        string[] Run(string name)
        {
            string metrics = Path.Combine(folder.Path, name);
            var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--hidden", "40,20", "--dropout", "0.2",
                "--momentum", "0.9", "--loss", "cross-entropy", "--lr", "0.05", "--batch-size", "16", "--epochs", "3",
                "--threads", "2", "--seed", "7", "--metrics", metrics, "--quiet");
            Assert.True(result.ExitCode == 0, result.ToString());
            using var json = JsonDocument.Parse(File.ReadAllText(metrics));
            var values = new List<string>();
            foreach (var epoch in json.RootElement.GetProperty("epochs").EnumerateArray())
            {
                foreach (string key in new[] { "train_loss", "train_accuracy", "valid_loss", "valid_accuracy" })
                    values.Add(epoch.GetProperty(key).GetRawText());
            }
            values.Add(json.RootElement.GetProperty("test_loss").GetRawText());
            values.Add(json.RootElement.GetProperty("test_accuracy").GetRawText());
            return values.ToArray();
        }

        Assert.Equal(Run("first.json"), Run("second.json"));
    }

    [Fact]
    public void EarlyStoppingRestoresBestEpoch()
    {
        using var folder = new TempDirectory();
        string metrics = Path.Combine(folder.Path, "metrics.json");
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--hidden", "30", "--loss", "cross-entropy",
            "--lr", "0.5", "--batch-size", "20", "--epochs", "30", "--patience", "2", "--stop-on", "loss", "--metrics", metrics, "--quiet");
        Assert.True(result.ExitCode == 0, result.ToString());

        using var json = JsonDocument.Parse(File.ReadAllText(metrics));
        var root = json.RootElement;
        var epochs = root.GetProperty("epochs").EnumerateArray().ToArray();
        int best = root.GetProperty("best_epoch").GetInt32();
        double bestLoss = epochs[best - 1].GetProperty("valid_loss").GetDouble();
        Assert.All(epochs, e => Assert.True(e.GetProperty("valid_loss").GetDouble() >= bestLoss));
        if (root.GetProperty("stop_reason").GetString() == "earlystopped")
            Assert.Equal(best + 2, epochs.Length);
    }

    [Fact]
    public void MseLayerListWithoutSigmoidIsRejected()
    {
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--layers", "dense 20, relu, dense 10");
        AssertInputError(result, "--layers", "sigmoid", "cross-entropy");
    }

    [Fact]
    public void OutputFolderInPlaceOfFileIsRejectedBeforeTraining()
    {
        using var folder = new TempDirectory();
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--out", folder.Path);
        AssertInputError(result, "--out", "is a folder");
        Assert.DoesNotContain("epoch", result.StandardOutput);
    }

    [Fact]
    public void DivergedRunExitsWithThreeAndWritesNothing()
    {
        using var folder = new TempDirectory();
        string model = Path.Combine(folder.Path, "model.safetensors");
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--hidden", "10", "--activation", "relu",
            "--loss", "cross-entropy", "--lr", "1e30", "--epochs", "2", "--out", model);
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal("digitnet train: error: the training loss became NaN or infinite in epoch 1; lower --lr\n", result.StandardError);
        Assert.DoesNotContain("test accuracy", result.StandardOutput);
        Assert.False(File.Exists(model), "a diverged run must not write a model");
    }

    [Fact]
    public void SaturatedRunWarnsThatNothingWasLearned()
    {
        // Sigmoid units saturate at this rate: the loss stays finite, so the run completes.
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--lr", "1e10", "--epochs", "1", "--quiet");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("digitnet train: warning: the best validation accuracy, 0.", result.StandardError);
        Assert.Contains("is below 0.1500, close to guessing among 10 classes, so the network did not learn; check --lr", result.StandardError);
    }

    [Fact]
    public void LearningRunDoesNotWarn()
    {
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--epochs", "1", "--quiet");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.StandardError);
    }

    [Theory]
    [InlineData("--metrics", "--out")]
    [InlineData("--out", "--plot")]
    public void SharedOutputFileIsRejectedBeforeTraining(string first, string second)
    {
        using var folder = new TempDirectory();
        string path = Path.Combine(folder.Path, "out.bin");
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, first, path, second, Path.Combine(folder.Path, ".", "out.bin"));
        AssertInputError(result, "both name", "give each its own file");
        Assert.DoesNotContain("epoch", result.StandardOutput);
    }

    private const string DataArgument = "{data}", LinkArgument = "{link}";

    /// <summary>Commands whose output names the data file, directly, through a symbolic link or through $DIGITNET_DATA.</summary>
    public static TheoryData<string[], bool, string> OutputOverDataCases() => new()
    {
        { ["train", "--data", DataArgument, "--out", DataArgument, "--epochs", "1"], false, "--data and --out both name" },
        { ["train", "--data", DataArgument, "--metrics", DataArgument, "--epochs", "1"], false, "--data and --metrics both name" },
        { ["train", "--data", LinkArgument, "--out", DataArgument, "--epochs", "1"], false, "--data and --out both name" },
        { ["train", "--out", DataArgument, "--epochs", "1"], true, "the data file and --out both name" },
        { ["gallery", "--data", DataArgument, "--out", DataArgument], false, "--data and --out both name" },
    };

    [Theory]
    [MemberData(nameof(OutputOverDataCases))]
    public void OutputNamingDataIsRejected(string[] command, bool dataFromEnvironment, string expected)
    {
        using var folder = new TempDirectory();
        string data = Path.Combine(folder.Path, "digits");
        File.Copy(TestData.DigitsMatPath, data);
        string link = Path.Combine(folder.Path, "link");
        File.CreateSymbolicLink(link, data);
        var args = command.Select(arg => arg switch { DataArgument => data, LinkArgument => link, _ => arg }).ToArray();
        var environment = dataFromEnvironment ? new Dictionary<string, string?> { ["DIGITNET_DATA"] = data } : null;

        var result = CliRunner.Run(args, environment: environment);

        AssertInputError(result, expected);
        Assert.Equal(File.ReadAllBytes(TestData.DigitsMatPath), File.ReadAllBytes(data));
    }

    [Theory]
    [InlineData(new string[0], "kept the last epoch, 2 (--patience keeps the best by validation accuracy)")]
    [InlineData(new[] { "--patience", "5" }, "kept the best epoch by validation accuracy, ")]
    public void StopLineNamesKeptEpoch(string[] extra, string expected)
    {
        var result = CliRunner.Run(["train", "--data", TestData.DigitsMatPath, "--epochs", "2", .. extra]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(expected, result.StandardOutput);
    }

    [Fact]
    public void MetricsNameDataFoundThroughEnvironment()
    {
        using var folder = new TempDirectory();
        string metrics = Path.Combine(folder.Path, "metrics.json");
        var environment = new Dictionary<string, string?> { ["DIGITNET_DATA"] = TestData.DigitsMatPath };

        var result = CliRunner.Run(["train", "--hidden", "10", "--epochs", "1", "--quiet", "--metrics", metrics], environment: environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(TestData.DigitsMatPath, document.RootElement.GetProperty("settings").GetProperty("data").GetString());
    }
}
