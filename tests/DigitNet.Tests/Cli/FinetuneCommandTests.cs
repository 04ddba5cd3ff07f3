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
}
