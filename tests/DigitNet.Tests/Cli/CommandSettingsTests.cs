using System.Text.Json;
using DigitNet.Cli;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Cli;

/// <summary>
/// How train, finetune and gallery read their settings. The tests cover the keys a --config file
/// may contain, settings that a layer list replaces, a configuration reached through a symbolic
/// link, a sweep configuration given to the wrong command, and unknown and missing options.
/// </summary>
public sealed class CommandSettingsTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A valid model file, so that finetune gets past its model checks.</summary>
    private static string TinyModelPath => Path.Combine(TestData.RepositoryRoot, "tests", "fixtures", "tiny_model.safetensors");

    private string WriteConfig(string name, string json) => _folder.Write(name, System.Text.Encoding.UTF8.GetBytes(json));

    private string SmallData() => SmallDigits.Create().Save(_folder.Path, "small.mat");

    private string OutputPath(string name) => Path.Combine(_folder.Path, name);

    private static void AssertOneError(CliResult result, string command, string message)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2\n{result}");
        Assert.Equal($"digitnet {command}: error: {message}\n", result.StandardError);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact]
    public void GalleryUnknownKeyListsGalleryKeys()
    {
        string config = WriteConfig("g6.json", """{"foo": 1}""");

        var result = CliRunner.Run("gallery", "--config", config, "--out", OutputPath("gallery.png"));

        AssertOneError(result, "gallery", $"{config}: unknown key 'foo'; valid keys: data, seed, rotate, translate, scale, variants");
    }

    [Fact]
    public void FinetuneUnknownKeyOmitsModelSettings()
    {
        string config = WriteConfig("f.json", """{"foo": 1}""");

        var result = CliRunner.Run("finetune", "--model", TinyModelPath, "--config", config, "--out", OutputPath("tuned.safetensors"));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith($"digitnet finetune: error: {config}: unknown key 'foo'; valid keys: data, optimizer, lr,", result.StandardError);
        foreach (string modelSetting in new[] { "scaling", "hidden", "activation", "loss", "layers", "bias", "dropout", "init" })
            Assert.DoesNotContain($" {modelSetting},", result.StandardError);
    }

    [Fact]
    public void TrainUnknownKeyListsEverySetting()
    {
        string config = WriteConfig("t.json", """{"foo": 1}""");

        var result = CliRunner.Run("train", "--config", config);

        string keys = string.Join(", ", TrainingOptionTable.All.Select(option => option.Name));
        AssertOneError(result, "train", $"{config}: unknown key 'foo'; valid keys: {keys}");
    }

    [Fact]
    public void GalleryReadsVariantsFromConfig()
    {
        string data = SmallData();
        string config = WriteConfig("g.json", """{"variants": 3, "seed": 2}""");
        string fromConfig = OutputPath("from-config.png");
        string fromOptions = OutputPath("from-options.png");
        string fromDefault = OutputPath("from-default.png");

        var configResult = CliRunner.Run("gallery", "--data", data, "--config", config, "--out", fromConfig);
        var optionResult = CliRunner.Run("gallery", "--data", data, "--variants", "3", "--seed", "2", "--out", fromOptions);
        var defaultResult = CliRunner.Run("gallery", "--data", data, "--seed", "2", "--out", fromDefault);

        Assert.True(configResult.ExitCode == 0, configResult.ToString());
        Assert.True(optionResult.ExitCode == 0, optionResult.ToString());
        Assert.True(defaultResult.ExitCode == 0, defaultResult.ToString());
        Assert.Contains("13 per row", configResult.StandardOutput);
        Assert.Equal(File.ReadAllBytes(fromOptions), File.ReadAllBytes(fromConfig));
        Assert.NotEqual(File.ReadAllBytes(fromDefault), File.ReadAllBytes(fromConfig));
    }

    [Fact]
    public void GalleryVariantsOptionOverridesConfig()
    {
        string config = WriteConfig("g.json", """{"variants": 3}""");

        var result = CliRunner.Run("gallery", "--data", SmallData(), "--config", config, "--variants", "1", "--out", OutputPath("gallery.png"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("7 per row", result.StandardOutput);
    }

    [Theory]
    [InlineData("9", "key 'variants': invalid value '9'; expected an integer from 1 to 8")]
    [InlineData("\"2\"", "key 'variants' must be an integer, got \"2\"")]
    [InlineData("2.5", "key 'variants' must be an integer, got 2.5")]
    public void GalleryRejectsInvalidVariantsInConfig(string json, string reason)
    {
        string config = WriteConfig("g.json", $$"""{"variants": {{json}}}""");

        var result = CliRunner.Run("gallery", "--data", SmallData(), "--config", config, "--out", OutputPath("gallery.png"));

        AssertOneError(result, "gallery", $"{config}: {reason}");
    }

    [Fact]
    public void GalleryHelpSeparatesConfigFromSettings()
    {
        var result = CliRunner.Run("gallery", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        string help = result.StandardOutput;
        int settings = help.IndexOf("Settings:", StringComparison.Ordinal);
        Assert.True(settings > 0, help);
        Assert.True(help.IndexOf("--out FILE.png", StringComparison.Ordinal) < settings, "--out is listed as a setting of the file");
        Assert.True(help.IndexOf("--variants N", StringComparison.Ordinal) > settings, "--variants is not listed as a setting");
    }

    [Fact]
    public void BatchSizeErrorNamesConfigKey()
    {
        string config = WriteConfig("tb0.json", $$"""
            {"data": {{JsonSerializer.Serialize(SmallData())}}, "batch-size": 1, "layers": "dense 8, batchnorm, relu, dense 10", "loss": "cross-entropy"}
            """);

        var result = CliRunner.Run("train", "--config", config);

        AssertOneError(result, "train",
            $"{config}: key 'batch-size' is 1: layer batchnorm1 (batchnorm 1d 8) needs at least 2 samples in every training batch "
            + "to estimate the batch variance, but the 20 training samples are split into batches of 1; "
            + "choose a batch size of at least 2 that does not leave a last batch of 1, such as 2");
    }

    [Fact]
    public void BatchSizeOptionOverridingConfigIsNamed()
    {
        string config = WriteConfig("tb0.json", """{"batch-size": 4, "layers": "dense 8, batchnorm, relu, dense 10", "loss": "cross-entropy"}""");

        var result = CliRunner.Run("train", "--data", SmallData(), "--config", config, "--batch-size", "1");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("digitnet train: error: --batch-size 1: layer batchnorm1", result.StandardError);
    }

    /// <summary>Each setting that a layer list replaces: a value as option text and as JSON, and the hint of its error.</summary>
    private static readonly Dictionary<string, (string Text, string Json, string Hint)> ReplacedByLayers = new()
    {
        ["hidden"] = ("20", "[20]", "write the hidden layers in the list, such as dense 50, sigmoid"),
        ["activation"] = ("relu", "\"relu\"", "write an activation layer after each hidden layer in the list, such as relu"),
        ["dropout"] = ("0.2", "0.2", "write dropout layers in the list, such as dropout 0.5"),
        ["bias"] = ("false", "false", "write bias=false after a dense or conv layer in the list for a layer without a bias, such as dense 10 bias=false"),
    };

    public static TheoryData<string> ReplacedNames() => new(ReplacedByLayers.Keys);

    private const string WholeNetwork = "because the layer list describes the whole network";

    [Theory]
    [MemberData(nameof(ReplacedNames))]
    public void LayersRejectOption(string name)
    {
        var (text, _, hint) = ReplacedByLayers[name];

        var result = CliRunner.Run("train", "--data", SmallData(), "--layers", "dense 10", $"--{name}", text);

        AssertOneError(result, "train", $"--{name} cannot be used with --layers, {WholeNetwork}; {hint}");
    }

    [Theory]
    [MemberData(nameof(ReplacedNames))]
    public void LayersRejectKeyInConfig(string name)
    {
        var (_, json, hint) = ReplacedByLayers[name];
        string config = WriteConfig("l.json", $$"""{"layers": "dense 10", "{{name}}": {{json}}}""");

        var result = CliRunner.Run("train", "--data", SmallData(), "--config", config);

        AssertOneError(result, "train", $"{config}: key '{name}' cannot be used with key 'layers', {WholeNetwork}; {hint}");
    }

    [Fact]
    public void LayersOptionRejectsConfigKey()
    {
        string config = WriteConfig("h.json", """{"hidden": [20]}""");

        var result = CliRunner.Run("train", "--data", SmallData(), "--config", config, "--layers", "dense 10");

        AssertOneError(result, "train",
            $"{config}: key 'hidden' cannot be used with --layers, {WholeNetwork}; write the hidden layers in the list, such as dense 50, sigmoid");
    }

    [Fact]
    public void LayersKeyRejectsOption()
    {
        string config = WriteConfig("l.json", """{"layers": "dense 10"}""");

        var result = CliRunner.Run("train", "--data", SmallData(), "--config", config, "--dropout", "0.1");

        AssertOneError(result, "train",
            $"--dropout cannot be used with {config}: key 'layers', {WholeNetwork}; write dropout layers in the list, such as dropout 0.5");
    }

    [Fact]
    public void LayersMetricsOmitReplacedSettings()
    {
        string metrics = OutputPath("metrics.json");

        var result = CliRunner.Run("train", "--data", SmallData(), "--layers", "dense 10", "--loss", "cross-entropy", "--epochs", "1",
            "--quiet", "--metrics", metrics);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(File.ReadAllText(metrics));
        var settings = document.RootElement.GetProperty("settings");
        Assert.Equal("dense 10", settings.GetProperty("layers").GetString());
        foreach (string name in new[] { "hidden", "activation", "dropout", "bias" })
            Assert.False(settings.TryGetProperty(name, out _), $"the metrics record '{name}', which the layer list replaced");
    }

    [Fact]
    public void HiddenMetricsKeepNetworkSettings()
    {
        string metrics = OutputPath("metrics.json");

        var result = CliRunner.Run("train", "--data", SmallData(), "--hidden", "5", "--bias", "false", "--epochs", "1", "--quiet", "--metrics", metrics);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(File.ReadAllText(metrics));
        var settings = document.RootElement.GetProperty("settings");
        Assert.Equal(5, settings.GetProperty("hidden")[0].GetInt32());
        Assert.False(settings.GetProperty("bias").GetBoolean());
        Assert.Equal(JsonValueKind.Null, settings.GetProperty("layers").ValueKind);
    }

    /// <summary>The shipped training configurations: the experiment files that are not sweeps.</summary>
    public static TheoryData<string> ShippedTrainingConfigs()
    {
        var configs = new TheoryData<string>();
        foreach (string path in Directory.GetFiles(Path.Combine(TestData.RepositoryRoot, "experiments"), "*.json").Order(StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            bool sweep = document.RootElement.TryGetProperty("name", out _) || document.RootElement.TryGetProperty("sweeps", out _);
            if (!sweep) configs.Add(Path.GetFileName(path));
        }
        return configs;
    }

    [Theory]
    [MemberData(nameof(ShippedTrainingConfigs))]
    public void ShippedTrainingConfigLoads(string name)
    {
        string path = Path.Combine(TestData.RepositoryRoot, "experiments", name);
        var line = CommandLine.Parse(["--config", path], new HashSet<string>());

        var settings = TrainingSettings.Read(line, new TrainingOptions());

        Assert.Equal(path, settings.ConfigPath);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("finetune")]
    [InlineData("gallery")]
    public void SweepConfigNamesSweepCommand(string command)
    {
        string config = Path.Combine(TestData.RepositoryRoot, "experiments", "hidden-units.json");
        string[] args = command switch
        {
            "finetune" => ["finetune", "--config", config, "--model", TinyModelPath, "--out", OutputPath("tuned.safetensors")],
            "gallery" => ["gallery", "--config", config, "--out", OutputPath("gallery.png")],
            _ => ["train", "--config", config],
        };

        var result = CliRunner.Run(args);

        AssertOneError(result, command, $"{config} is a sweep configuration; run it with digitnet sweep --config {config}");
    }

    [Fact]
    public void SuiteConfigNamesSweepCommand()
    {
        string config = WriteConfig("suite.json", """{"title": "all", "sweeps": ["a.json"]}""");

        var result = CliRunner.Run("train", "--config", config);

        AssertOneError(result, "train", $"{config} is a sweep configuration; run it with digitnet sweep --config {config}");
    }

    [SkippableFact]
    public void LinkedConfigResolvesDataAtRealFolder()
    {
        // Creating a symbolic link on Windows needs a privilege that test machines may lack.
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string realFolder = Path.Combine(_folder.Path, "cfg", "sub");
        Directory.CreateDirectory(realFolder);
        string data = SmallDigits.Create().Save(realFolder, "small.mat");
        File.WriteAllText(Path.Combine(realFolder, "rel.json"), """{"data": "small.mat", "hidden": [5], "epochs": 1}""");
        File.CreateSymbolicLink(Path.Combine(_folder.Path, "link.json"), Path.Combine("cfg", "sub", "rel.json"));
        string metrics = OutputPath("metrics.json");

        var result = CliRunner.Run(["train", "--config", "link.json", "--quiet", "--metrics", metrics], workingDirectory: _folder.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(data, document.RootElement.GetProperty("settings").GetProperty("data").GetString());
    }

    [SkippableFact]
    public void LinkedConfigErrorShowsResolvedPath()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string realFolder = Path.Combine(_folder.Path, "cfg", "sub");
        Directory.CreateDirectory(realFolder);
        File.WriteAllText(Path.Combine(realFolder, "rel.json"), """{"data": "../missing.mat"}""");
        Directory.CreateSymbolicLink(Path.Combine(_folder.Path, "linked-folder"), realFolder);

        var result = CliRunner.Run(["train", "--config", "linked-folder/rel.json"], workingDirectory: _folder.Path);

        string expected = Path.Combine(_folder.Path, "cfg", "missing.mat");
        AssertOneError(result, "train", $"linked-folder/rel.json: key 'data': file not found: {expected}; check the path");
    }

    [Theory]
    [InlineData("gallery")]
    [InlineData("finetune")]
    [InlineData("evaluate")]
    [InlineData("predict")]
    [InlineData("sweep")]
    [InlineData("sweep merge")]
    public void UnknownOptionBeforeMissingRequired(string command)
    {
        var result = CliRunner.Run([.. command.Split(' '), "--bogus"]);

        // sweep merge reports as sweep, and names itself in the hint.
        AssertOneError(result, command.Split(' ')[0], $"unknown option --bogus for '{command}'; run 'digitnet {command} --help' for the valid options");
    }

    [Theory]
    [InlineData("gallery", "--out FILE.png")]
    [InlineData("finetune", "--model FILE.safetensors")]
    [InlineData("evaluate", "--model FILE.safetensors")]
    [InlineData("predict", "--model FILE.safetensors")]
    [InlineData("sweep", "--config FILE.json")]
    [InlineData("sweep merge", "--config FILE.json")]
    public void MissingRequiredOptionMessage(string command, string option)
    {
        var result = CliRunner.Run(command.Split(' '));

        AssertOneError(result, command.Split(' ')[0], $"missing required option {option}; run 'digitnet {command} --help' for the options");
    }

    [Theory]
    [InlineData("finetune", "--model")]
    [InlineData("sweep", "--config")]
    [InlineData("sweep merge", "--config")]
    public void MissingOutOptionMessage(string command, string option)
    {
        // sweep reads its configuration before it needs --out, which a dry run does without.
        string value = option == "--model" ? "model.safetensors" : Path.Combine(TestData.RepositoryRoot, "experiments", "hidden-units.json");

        var result = CliRunner.Run([.. command.Split(' '), option, value], workingDirectory: _folder.Path);

        string placeholder = command == "finetune" ? "FILE.safetensors" : "DIR";
        AssertOneError(result, command.Split(' ')[0], $"missing required option --out {placeholder}; run 'digitnet {command} --help' for the options");
    }
}
