using System.Text.Json;
using DigitNet.Data;
using DigitNet.Serialization;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Cli;

public sealed class FinetuneCommandTests(SmallModelFixture fixture) : IClassFixture<SmallModelFixture>, IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string OutputPath(string name) => Path.Combine(_folder.Path, name);

    [Fact]
    public void FinetuneKeepsFrozenBatchNormStatistics()
    {
        var options = new TrainingOptions { Layers = "dense 32, batchnorm, relu, dense 10", Loss = "cross-entropy", BatchSize = 3, Epochs = 1 };
        var outcome = TrainingRun.Run(options, DigitsMat.Load(TestData.DigitsMatPath));
        string trained = OutputPath("bn.safetensors");
        string tuned = OutputPath("tuned.safetensors");
        ModelFile.Save(trained, outcome.Network, outcome.Preprocessing, outcome.Loss.Name, DigitsMat.ClassNames);

        var result = CliRunner.Run("finetune", "--model", trained, "--out", tuned, "--data", TestData.DigitsMatPath,
            "--batch-size", "3", "--epochs", "1", "--patience", "0");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("trained layers: dense2; every other parameter frozen (checked unchanged)", result.StandardOutput);
        var before = ModelFile.Load(trained).Network;
        var after = ModelFile.Load(tuned).Network;
        foreach (string name in new[] { "batchnorm1.running_mean", "batchnorm1.running_var", "batchnorm1.scale", "batchnorm1.shift", "dense1.weight" })
            Assert.True(before.FindParameter(name)!.Value.SequenceEqual(after.FindParameter(name)!.Value), $"{name} changed");
        Assert.False(before.FindParameter("dense2.weight")!.Value.SequenceEqual(after.FindParameter("dense2.weight")!.Value), "dense2.weight did not train");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DivergedFinetuneWritesNothing(bool json)
    {
        // Softmax cross-entropy grows without bound as the logits do, where saturated sigmoids would not.
        var options = new TrainingOptions { Layers = "dense 16, relu, dense 10", Loss = "cross-entropy", BatchSize = 64, Epochs = 1 };
        var outcome = TrainingRun.Run(options, DigitsMat.Load(TestData.DigitsMatPath));
        string trained = OutputPath($"ce-{json}.safetensors");
        ModelFile.Save(trained, outcome.Network, outcome.Preprocessing, outcome.Loss.Name, DigitsMat.ClassNames);
        string tuned = OutputPath("diverged.safetensors");
        string[] args = ["finetune", "--model", trained, "--out", tuned, "--data", TestData.DigitsMatPath,
            "--lr", "1e38", "--momentum", "0.99", "--epochs", "2", "--patience", "0"];

        var result = CliRunner.Run(json ? [.. args, "--json"] : args);

        Assert.True(result.ExitCode == 3, result.ToString());
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["digitnet finetune: error: the training loss became NaN or infinite in epoch 1; lower --lr"], lines);
        Assert.DoesNotContain("model written", result.StandardOutput);
        Assert.DoesNotContain("{", result.StandardOutput);
        Assert.False(File.Exists(tuned), "a diverged fine-tuning run must not write a model");
    }

    [Fact]
    public void FinetuneJsonNamesModelPathAsGiven()
    {
        Directory.CreateDirectory(OutputPath("models"));
        File.Copy(fixture.ModelPath, OutputPath(Path.Combine("models", "small.safetensors")));
        string model = Path.Combine("models", "small.safetensors");

        var result = CliRunner.Run(["finetune", "--model", model, "--data", TestData.DigitsMatPath, "--epochs", "1", "--out", "tuned.safetensors", "--json"],
            workingDirectory: _folder.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var summary = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal(model, summary.RootElement.GetProperty("finetuned_from").GetString());
    }

    [Fact]
    public void FinetuneSummaryOmitsModelSettings()
    {
        string tuned = OutputPath("tuned.safetensors");

        var result = CliRunner.Run("finetune", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath, "--epochs", "1", "--out", tuned, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var summary = JsonDocument.Parse(result.StandardOutput);
        var settings = summary.RootElement.GetProperty("settings");
        foreach (string name in new[] { "hidden", "activation", "loss", "layers", "scaling", "init", "rotated-copies" })
            Assert.False(settings.TryGetProperty(name, out _), $"settings records '{name}', which the model file set");
        Assert.Equal(1, settings.GetProperty("epochs").GetInt32());
    }
}
