using System.Text.Json;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>Tests of the top-level fields that predict --json and evaluate --json share, which must mean the same in both.</summary>
public sealed class JsonFieldTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>, IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private static JsonElement ParseRoot(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.Clone();
    }

    [Fact]
    public void PredictAndEvaluateShareModelFields()
    {
        string architecture = fixture.Model.Network.Architecture.LayersText;
        var predict = ParseRoot(CliRunner.Run("predict", "--model", fixture.ModelPath, "--json", fixture.WriteTestPng(0, _folder.Path)));
        var evaluate = ParseRoot(CliRunner.Run("evaluate", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath, "--json", "--mistakes", "0"));

        foreach (var (command, root) in new[] { ("predict", predict), ("evaluate", evaluate) })
        {
            Assert.True(root.TryGetProperty("model", out var model), $"{command} --json has no \"model\"");
            Assert.True(model.GetString() == fixture.ModelPath, $"{command} --json: \"model\" should be the model file path {fixture.ModelPath}, got {model}");
            Assert.True(root.TryGetProperty("architecture", out var layers), $"{command} --json has no \"architecture\"");
            Assert.True(layers.GetString() == architecture, $"{command} --json: \"architecture\" should be '{architecture}', got {layers}");
        }
    }
}
