using System.Text.Json;
using DigitNet.Models;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>
/// Paths in a --config file of train, finetune and gallery are resolved against the file's folder,
/// and errors about a value from the file name the file and the key, not an option. The same errors
/// about a value given on the command line name the option.
/// </summary>
public sealed class ConfigFileTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A folder that the commands run in, apart from the folder of the configuration file.</summary>
    private string WorkingFolder
    {
        get
        {
            string path = Path.Combine(_folder.Path, "work");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    /// <summary>Writes <paramref name="json"/> to configs/NAME in the temporary folder and returns its full path.</summary>
    private string WriteConfig(string name, string json)
    {
        string folder = Path.Combine(_folder.Path, "configs");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>A valid model file, so that finetune gets past its model checks.</summary>
    private static string TinyModelPath => Path.Combine(TestData.RepositoryRoot, "tests", "fixtures", "tiny_model.safetensors");

    private static string JsonString(string text) => JsonSerializer.Serialize(text);

    private static void AssertOneError(CliResult result, string command, string message)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2\n{result}");
        Assert.Equal($"digitnet {command}: error: {message}\n", result.StandardError);
    }

    [Fact]
    public void RelativeDataIsResolvedAgainstConfigFolder()
    {
        string configFolder = Path.Combine(_folder.Path, "configs");
        Directory.CreateDirectory(configFolder);
        string relative = Path.GetRelativePath(configFolder, TestData.DigitsMatPath);
        string config = WriteConfig("train.json", $$"""{"data": {{JsonString(relative)}}, "hidden": [5], "epochs": 1}""");
        string metrics = Path.Combine(_folder.Path, "metrics.json");

        var result = CliRunner.Run(["train", "--config", config, "--metrics", metrics, "--quiet"], workingDirectory: WorkingFolder);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(File.ReadAllText(metrics));
        string? recorded = document.RootElement.GetProperty("settings").GetProperty("data").GetString();
        Assert.Equal(Path.Combine(configFolder, relative), recorded);
    }

    /// <summary>The command lines that read a --config file, given the path of that file.</summary>
    public static TheoryData<string> ConfigCommands() => ["train", "finetune", "gallery"];

    private static string[] CommandWithConfig(string command, string config) => command switch
    {
        "finetune" => ["finetune", "--config", config, "--model", TinyModelPath, "--out", "new.safetensors"],
        "gallery" => ["gallery", "--config", config, "--out", "gallery.png"],
        _ => [command, "--config", config],
    };

    [Theory]
    [MemberData(nameof(ConfigCommands))]
    public void MissingConfigDataNamesFileAndKey(string command)
    {
        string config = WriteConfig("settings.json", """{"data": "digits.mat"}""");
        string expected = Path.Combine(Path.GetDirectoryName(config)!, "digits.mat");

        var result = CliRunner.Run(CommandWithConfig(command, config), workingDirectory: WorkingFolder);

        AssertOneError(result, command, $"{config}: key 'data': file not found: {expected}; check the path");
    }

    [Fact]
    public void RelativeConfigPathKeepsDataRelative()
    {
        WriteConfig("settings.json", """{"data": "missing.mat"}""");

        var result = CliRunner.Run(["train", "--config", "configs/settings.json"], workingDirectory: _folder.Path);

        AssertOneError(result, "train", "configs/settings.json: key 'data': file not found: configs/missing.mat; check the path");
    }

    [Fact]
    public void ConfigDataFolderNamesFileAndKey()
    {
        string config = WriteConfig("settings.json", """{"data": "."}""");
        string folder = Path.Combine(Path.GetDirectoryName(config)!, ".");

        var result = CliRunner.Run(["train", "--config", config], workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"{config}: key 'data': {folder} is a folder; give the path of the digits.mat file in it");
    }

    [Fact]
    public void CommandLineDataOverridesConfig()
    {
        string config = WriteConfig("settings.json", """{"data": "digits.mat"}""");
        string missing = Path.Combine(_folder.Path, "other.mat");

        var result = CliRunner.Run(["train", "--config", config, "--data", missing], workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"--data: file not found: {missing}; check the path");
    }

    [Fact]
    public void AbsoluteConfigDataIsKept()
    {
        string missing = Path.Combine(_folder.Path, "elsewhere", "digits.mat");
        string config = WriteConfig("settings.json", $$"""{"data": {{JsonString(missing)}}}""");

        var result = CliRunner.Run(["train", "--config", config], workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"{config}: key 'data': file not found: {missing}; check the path");
    }

    [Fact]
    public void NetworkErrorNamesConfigKey()
    {
        string config = WriteConfig("settings.json", """{"layers": "flatten, dense 5", "loss": "cross-entropy"}""");

        var result = CliRunner.Run(["train", "--config", config, "--data", TestData.DigitsMatPath], workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"{config}: key 'layers': the last layer outputs 5 values but the data has 10 classes");
    }

    [Fact]
    public void NetworkErrorNamesOverridingOption()
    {
        string config = WriteConfig("settings.json", """{"layers": "flatten, dense 10", "loss": "cross-entropy"}""");

        var result = CliRunner.Run(["train", "--config", config, "--data", TestData.DigitsMatPath, "--layers", "flatten, dense 5"],
            workingDirectory: WorkingFolder);

        AssertOneError(result, "train", "--layers: the last layer outputs 5 values but the data has 10 classes");
    }

    /// <summary>The layer factory's message for a layer kind it does not know.</summary>
    private static string UnknownKindMessage(string kind) =>
        $"unknown layer kind '{kind}'; expected one of {string.Join(", ", LayerFactory.Kinds)}";

    /// <summary>Layer lists that fail to build, with the reason that follows the option or key.</summary>
    public static TheoryData<string, string> InvalidLayerLists() => new()
    {
        { "bogus", UnknownKindMessage("bogus") },
        { "flatten, bogus 3, dense 10", UnknownKindMessage("bogus") },
        { "dense 0", "layer 'dense 0': argument '0' must be a positive integer" },
        { "dense 10 wide=yes", "layer 'dense 10 wide=yes': unknown option 'wide'; expected one of bias" },
        { "dense 10 bias", "layer 'dense 10 bias': takes at most 1 positional argument(s), got 2" },
        { "conv 4 99x99, dense 10", "layer 'conv 4 99x99': conv1: window 99x99 is larger than the padded input 16x16; use a smaller kernel or more padding (input [1, 16, 16])" },
        { "dense 10 bias=true bias=false", "layer 'dense 10 bias=true bias=false': option 'bias' is given twice" },
    };

    [Theory]
    [MemberData(nameof(InvalidLayerLists))]
    public void LayerListErrorNamesConfigKey(string layers, string reason)
    {
        string config = WriteConfig("settings.json", $$"""{"layers": {{JsonString(layers)}}, "loss": "cross-entropy"}""");

        var result = CliRunner.Run(["train", "--config", config, "--data", TestData.DigitsMatPath], workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"{config}: key 'layers': {reason}");
    }

    [Theory]
    [MemberData(nameof(InvalidLayerLists))]
    public void LayerListErrorNamesOption(string layers, string reason)
    {
        var result = CliRunner.Run(["train", "--data", TestData.DigitsMatPath, "--loss", "cross-entropy", "--layers", layers],
            workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"--layers: {reason}");
    }

    [Fact]
    public void LayerListOptionOverridingConfigIsNamed()
    {
        string config = WriteConfig("settings.json", """{"layers": "flatten, dense 10", "loss": "cross-entropy"}""");

        var result = CliRunner.Run(["train", "--config", config, "--data", TestData.DigitsMatPath, "--layers", "bogus"],
            workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"--layers: {UnknownKindMessage("bogus")}");
    }

    /// <summary>The reason given for a hidden layer of 10,000,000 units, whose weight has more values than an array can hold.</summary>
    private const string OversizedHiddenReason =
        "layer 'dense 10000000': a tensor of this layer would have more than 2147483647 values; use fewer units or channels";

    [Fact]
    public void HiddenSizeErrorNamesConfigKey()
    {
        string config = WriteConfig("settings.json", """{"hidden": [10000000]}""");

        var result = CliRunner.Run(["train", "--config", config, "--data", TestData.DigitsMatPath], workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"{config}: key 'hidden': {OversizedHiddenReason}");
    }

    [Fact]
    public void HiddenSizeErrorNamesOption()
    {
        var result = CliRunner.Run(["train", "--data", TestData.DigitsMatPath, "--hidden", "10000000"], workingDirectory: WorkingFolder);

        AssertOneError(result, "train", $"--hidden: {OversizedHiddenReason}");
    }

    [Theory]
    [InlineData("train")]
    [InlineData("finetune")]
    [InlineData("gallery")]
    public void HelpExplainsRelativeConfigData(string command)
    {
        var result = CliRunner.Run(command, "--help");

        string help = string.Join(" ", result.StandardOutput.Split('\n').Select(line => line.Trim()));
        Assert.Contains("A relative \"data\" path in the file is resolved against the file's folder", help);
    }
}
