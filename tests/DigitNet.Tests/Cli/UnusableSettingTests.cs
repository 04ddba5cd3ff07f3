using System.Text.Json;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>
/// finetune and gallery reject the training settings they cannot use, on the command line and in
/// a --config file, with one error that names the option or the file and key, before any work.
/// </summary>
public sealed class UnusableSettingTests(SmallModelFixture fixture) : IClassFixture<SmallModelFixture>, IDisposable
{
    private const string FinetuneReason =
        "does not apply to finetune, which takes the architecture, initial weights and input scaling from the --model file";

    private const string RotatedCopiesReason =
        "does not apply to finetune, which trains on the original training samples only; use --augment affine with --rotate DEGREES for random rotations";

    private const string GalleryReason =
        "does not apply to gallery, which uses only the settings data, rotate, translate, scale, seed and variants";

    /// <summary>The reason finetune gives for <paramref name="key"/>: rotated copies are training data, not part of the model.</summary>
    private static string FinetuneReasonFor(string key) => key == "rotated-copies" ? RotatedCopiesReason : FinetuneReason;

    /// <summary>Every setting that finetune takes from the model file, with a valid JSON value and the same value as option text.</summary>
    private static readonly (string Key, string Json, string Text)[] ModelSettingValues =
    [
        ("scaling", "\"none\"", "none"),
        ("hidden", "[5]", "5"),
        ("activation", "\"relu\"", "relu"),
        ("loss", "\"cross-entropy\"", "cross-entropy"),
        ("layers", "\"dense 10\"", "dense 10"),
        ("bias", "false", "false"),
        ("dropout", "0.1", "0.1"),
        ("init", "\"he\"", "he"),
        ("rotated-copies", "[90]", "90"),
    ];

    /// <summary>A sample of the training settings that gallery does not use, with a valid JSON value and option text for each.</summary>
    private static readonly (string Key, string Json, string Text)[] GalleryUnusedValues =
    [
        ("epochs", "1", "1"),
        ("lr", "0.1", "0.1"),
        ("hidden", "[5]", "5"),
        ("layers", "\"dense 10\"", "dense 10"),
        ("augment", "\"affine\"", "affine"),
        ("scaling", "\"none\"", "none"),
        ("threads", "1", "1"),
    ];

    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string WriteConfig(string json) => _folder.Write("settings.json", System.Text.Encoding.UTF8.GetBytes(json));

    private string OutputPath(string name) => Path.Combine(_folder.Path, name);

    private static void AssertOneError(CliResult result, string command, string message)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2\n{result}");
        Assert.Equal($"digitnet {command}: error: {message}\n", result.StandardError);
        Assert.Equal("", result.StandardOutput);
    }

    public static TheoryData<string, string> ModelSettingsAsJson() => JsonCases(ModelSettingValues);

    public static TheoryData<string, string> ModelSettingsAsOptions() => OptionCases(ModelSettingValues);

    public static TheoryData<string, string> GalleryUnusedAsJson() => JsonCases(GalleryUnusedValues);

    public static TheoryData<string, string> GalleryUnusedAsOptions() => OptionCases(GalleryUnusedValues);

    private static TheoryData<string, string> JsonCases(IEnumerable<(string Key, string Json, string Text)> values)
    {
        var cases = new TheoryData<string, string>();
        foreach (var (key, json, _) in values) cases.Add(key, json);
        return cases;
    }

    private static TheoryData<string, string> OptionCases(IEnumerable<(string Key, string Json, string Text)> values)
    {
        var cases = new TheoryData<string, string>();
        foreach (var (key, _, text) in values) cases.Add(key, text);
        return cases;
    }

    [Theory]
    [MemberData(nameof(ModelSettingsAsJson))]
    public void FinetuneRejectsModelKeyInConfig(string key, string json)
    {
        string config = WriteConfig($$"""{"epochs": 1, "{{key}}": {{json}}}""");
        string output = OutputPath("tuned.safetensors");

        var result = CliRunner.Run("finetune", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath, "--config", config, "--out", output);

        AssertOneError(result, "finetune", $"{config}: key '{key}' {FinetuneReasonFor(key)}");
        Assert.False(File.Exists(output), "finetune wrote a model although it rejected its settings");
    }

    [Theory]
    [MemberData(nameof(ModelSettingsAsOptions))]
    public void FinetuneRejectsModelOption(string key, string text)
    {
        string output = OutputPath("tuned.safetensors");

        var result = CliRunner.Run("finetune", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath, $"--{key}", text, "--out", output);

        AssertOneError(result, "finetune", $"--{key} {FinetuneReasonFor(key)}");
        Assert.False(File.Exists(output), "finetune wrote a model although it rejected its settings");
    }

    [Fact]
    public void FinetuneRejectsModelKeyBeforeCheckingValue()
    {
        string config = WriteConfig("""{"hidden": "bogus"}""");

        var result = CliRunner.Run("finetune", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath, "--config", config,
            "--out", OutputPath("tuned.safetensors"));

        AssertOneError(result, "finetune", $"{config}: key 'hidden' {FinetuneReason}");
    }

    [Fact]
    public void FinetuneReadsTrainingKeysInConfig()
    {
        string config = WriteConfig("""{"epochs": 2, "lr": 0.05, "batch-size": 100, "patience": 0, "seed": 3}""");
        string output = OutputPath("tuned.safetensors");

        var result = CliRunner.Run("finetune", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath, "--config", config,
            "--out", output, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var summary = JsonDocument.Parse(result.StandardOutput);
        var settings = summary.RootElement.GetProperty("settings");
        Assert.Equal(2, settings.GetProperty("epochs").GetInt32());
        Assert.Equal(0.05, settings.GetProperty("lr").GetDouble());
        Assert.Equal(100, settings.GetProperty("batch-size").GetInt32());
        Assert.Equal(3, settings.GetProperty("seed").GetInt32());
        Assert.True(File.Exists(output));
    }

    [Theory]
    [MemberData(nameof(GalleryUnusedAsJson))]
    public void GalleryRejectsUnusedKeyInConfig(string key, string json)
    {
        string config = WriteConfig($$"""{"seed": 2, "{{key}}": {{json}}}""");
        string output = OutputPath("gallery.png");

        var result = CliRunner.Run("gallery", "--data", TestData.DigitsMatPath, "--config", config, "--out", output);

        AssertOneError(result, "gallery", $"{config}: key '{key}' {GalleryReason}");
        Assert.False(File.Exists(output), "gallery drew an image although it rejected its settings");
    }

    [Theory]
    [MemberData(nameof(GalleryUnusedAsOptions))]
    public void GalleryRejectsUnusedOption(string key, string text)
    {
        string output = OutputPath("gallery.png");

        var result = CliRunner.Run("gallery", "--data", TestData.DigitsMatPath, $"--{key}", text, "--out", output);

        AssertOneError(result, "gallery", $"--{key} {GalleryReason}");
        Assert.False(File.Exists(output), "gallery drew an image although it rejected its settings");
    }

    [Fact]
    public void GalleryReadsItsSettingsInConfig()
    {
        string config = WriteConfig($$"""
            {"data": {{JsonSerializer.Serialize(TestData.DigitsMatPath)}}, "seed": 2, "rotate": 20, "translate": 1, "scale": 0.2}
            """);
        string fromConfig = OutputPath("from-config.png");
        string fromOptions = OutputPath("from-options.png");
        string fromDefaults = OutputPath("from-defaults.png");

        var configResult = CliRunner.Run("gallery", "--config", config, "--out", fromConfig);
        var optionResult = CliRunner.Run("gallery", "--data", TestData.DigitsMatPath, "--seed", "2", "--rotate", "20", "--translate", "1",
            "--scale", "0.2", "--out", fromOptions);
        var defaultResult = CliRunner.Run("gallery", "--data", TestData.DigitsMatPath, "--out", fromDefaults);

        Assert.True(configResult.ExitCode == 0, configResult.ToString());
        Assert.True(optionResult.ExitCode == 0, optionResult.ToString());
        Assert.True(defaultResult.ExitCode == 0, defaultResult.ToString());
        Assert.Equal(File.ReadAllBytes(fromOptions), File.ReadAllBytes(fromConfig));
        Assert.NotEqual(File.ReadAllBytes(fromDefaults), File.ReadAllBytes(fromConfig));
    }
}
