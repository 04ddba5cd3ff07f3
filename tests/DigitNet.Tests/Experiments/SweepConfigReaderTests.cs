using System.Text.Json;
using DigitNet.Experiments;
using DigitNet.Tests.Data;
using DigitNet.Training;

namespace DigitNet.Tests.Experiments;

public class SweepConfigReaderTests
{
    private static SweepConfig Read(string json) => SweepConfigReader.ReadSweep(JsonDocument.Parse(json).RootElement.Clone(), "test.json");

    private static OptionException ReadFails(string json) => Assert.Throws<OptionException>(() => Read(json));

    [Fact]
    public void GridExpandsFirstKeySlowest()
    {
        var sweep = Read("""{"name": "g", "base": {"epochs": 3}, "grid": {"hidden": [[8], [16, 4]], "lr": [0.1, 0.5]}, "seeds": 2}""");

        Assert.Equal(["hidden=8 lr=0.1", "hidden=8 lr=0.5", "hidden=16,4 lr=0.1", "hidden=16,4 lr=0.5"], sweep.Points.Select(p => p.Label));
        Assert.Equal([16, 4], sweep.Points[2].Options.Hidden);
        Assert.Equal(0.5, sweep.Points[3].Options.LearningRate);
        Assert.All(sweep.Points, p => Assert.Equal(3, p.Options.Epochs));
        Assert.Equal([1UL, 2UL], sweep.Seeds);
        Assert.Equal("hidden, lr", sweep.Report.XLabel);
        Assert.True(sweep.Report.Categorical);
    }

    [Fact]
    public void SingleNumericKeyGivesNumericAxis()
    {
        var sweep = Read("""{"name": "h", "grid": {"hidden": [[25], [50]]}, "report": {"reference": {"25": 0.951}}}""");

        Assert.Equal(["25", "50"], sweep.Points.Select(p => p.Label));
        Assert.Equal([25.0, 50.0], sweep.Points.Select(p => p.XValue!.Value));
        Assert.False(sweep.Report.Categorical);
        Assert.Equal(0.951, sweep.Points[0].Reference);
        Assert.Null(sweep.Points[1].Reference);
    }

    [Fact]
    public void ListEntriesKeepLabelsAndReferences()
    {
        var sweep = Read("""
            {"name": "l", "base": {"hidden": [8]},
             "list": [{"label": "squared error", "loss": "mse", "reference": 0.95},
                      {"loss": "cross-entropy", "lr": 0.05}]}
            """);

        Assert.Equal(["squared error", "loss=cross-entropy lr=0.05"], sweep.Points.Select(p => p.Label));
        Assert.Equal(0.95, sweep.Points[0].Reference);
        Assert.Equal("cross-entropy", sweep.Points[1].Options.Loss);
        Assert.Equal([8], sweep.Points[1].Options.Hidden);
        Assert.Equal([1UL], sweep.Seeds);
    }

    [Fact]
    public void FineTuneSettingsApplyOnTopOfRow()
    {
        var sweep = Read("""{"name": "f", "base": {"lr": 0.2, "epochs": 10}, "list": [{"label": "a"}, {"label": "b", "finetune": {"epochs": 5, "lr": 0.05}}]}""");

        Assert.Null(sweep.Points[0].FineTune);
        var fineTune = sweep.Points[1].FineTune!;
        Assert.Equal(5, fineTune.Epochs);
        Assert.Equal(0.05, fineTune.LearningRate);
        Assert.Equal(sweep.Points[1].Options.Hidden, fineTune.Hidden);
    }

    [Theory]
    [InlineData("""{"name": "x", "grid": {"hidden": [[8]]}, "colour": "red"}""", "'colour'")]
    [InlineData("""{"name": "x", "base": {"learning-rate": 0.1}}""", "'base.learning-rate'")]
    [InlineData("""{"name": "x", "grid": {"hiden": [[8]]}}""", "'grid.hiden'")]
    [InlineData("""{"name": "x", "list": [{"label": "a", "epoch": 3}]}""", "'list[0].epoch'")]
    [InlineData("""{"name": "x", "grid": {"lr": [0.1]}, "report": {"metrik": "test_loss"}}""", "'report.metrik'")]
    public void UnknownKeyIsNamed(string json, string fragment)
    {
        var error = ReadFails(json);
        Assert.Contains(fragment, error.Message);
        Assert.StartsWith("test.json: ", error.Message);
    }

    [Theory]
    [InlineData("""{"name": "x", "base": {"lr": "fast"}}""", "'lr'")]
    [InlineData("""{"name": "x", "base": {"epochs": true}}""", "'epochs'")]
    [InlineData("""{"name": "x", "grid": {"lr": [0.1, "0.2"]}}""", "'lr'")]
    [InlineData("""{"name": "x", "grid": {"bias": "true"}}""", "'bias'")]
    [InlineData("""{"name": "x", "grid": {"lr": [0.1]}, "seeds": "three"}""", "'seeds'")]
    [InlineData("""{"name": "x", "grid": {"lr": [0.1]}, "report": {"categorical": "yes"}}""", "report.categorical")]
    [InlineData("""{"name": 7, "grid": {"lr": [0.1]}}""", "'name'")]
    public void WrongTypeIsNamed(string json, string fragment)
    {
        Assert.Contains(fragment, ReadFails(json).Message);
    }

    [Theory]
    [InlineData("""{"name": "x", "grid": {}}""", "'grid' is empty")]
    [InlineData("""{"name": "x", "grid": {"lr": []}}""", "'lr' has an empty list")]
    [InlineData("""{"name": "x", "list": []}""", "'list' is empty")]
    [InlineData("""{"name": "x", "grid": {"lr": [0.1]}, "seeds": []}""", "'seeds' is an empty array")]
    public void EmptyGridIsRejected(string json, string fragment)
    {
        Assert.Contains(fragment, ReadFails(json).Message);
    }

    [Theory]
    [InlineData("""{"name": "x", "base": {"lr": -0.1}}""")]
    [InlineData("""{"name": "x", "grid": {"lr": [0.1, -0.5]}}""")]
    [InlineData("""{"name": "x", "list": [{"lr": -1}]}""")]
    [InlineData("""{"name": "x", "list": [{"label": "a", "finetune": {"lr": -1}}]}""")]
    public void NegativeLearningRateIsNamed(string json)
    {
        var error = ReadFails(json);
        Assert.Contains("lr", error.Message);
        Assert.Contains("-", error.Message);
    }

    [Theory]
    [InlineData("seed")]
    [InlineData("threads")]
    [InlineData("data")]
    public void ReservedSettingIsRejected(string key)
    {
        var value = key == "data" ? "\"digits.mat\"" : "1";
        var error = ReadFails("{\"name\": \"x\", \"base\": {\"" + key + "\": " + value + "}}");
        Assert.Contains($"'base.{key}'", error.Message);
        Assert.Contains("not allowed", error.Message);
    }

    [Fact]
    public void ReferenceToMissingRowIsRejected()
    {
        var error = ReadFails("""{"name": "x", "grid": {"hidden": [[25]]}, "report": {"reference": {"[25]": 0.9}}}""");
        Assert.Contains("'[25]'", error.Message);
        Assert.Contains("'25'", error.Message);
    }

    [Fact]
    public void FineTuneCannotChangeNetwork()
    {
        var error = ReadFails("""{"name": "x", "list": [{"label": "a", "finetune": {"hidden": [8]}}]}""");
        Assert.Contains("'hidden'", error.Message);
    }

    [Fact]
    public void GridAndListTogetherAreRejected()
    {
        Assert.Contains("either", ReadFails("""{"name": "x", "grid": {"lr": [0.1]}, "list": [{}]}""").Message);
    }

    [Fact]
    public void NameMustSuitFileNames()
    {
        Assert.Contains("'name'", ReadFails("""{"name": "a/b", "grid": {"lr": [0.1]}}""").Message);
        Assert.Contains("'name' is missing", ReadFails("""{"grid": {"lr": [0.1]}}""").Message);
    }

    [Fact]
    public void SuiteReadsSweepsRelativeToItself()
    {
        using var folder = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(folder.Path, "parts"));
        File.WriteAllText(Path.Combine(folder.Path, "parts", "a.json"), """{"name": "a", "grid": {"lr": [0.1, 0.2]}}""");
        File.WriteAllText(Path.Combine(folder.Path, "parts", "b.json"), """{"name": "b", "grid": {"hidden": [[8]]}}""");
        string suitePath = folder.Write("all.json", """{"name": "all", "title": "Everything", "sweeps": ["parts/a.json", "parts/b.json"]}"""u8.ToArray());

        var suite = SweepConfigReader.ReadFile(suitePath);

        Assert.Equal("Everything", suite.Title);
        Assert.Equal(["a", "b"], suite.Sweeps.Select(s => s.Name));
        Assert.Equal(2, suite.Sweeps[0].Points.Count);
    }

    [Fact]
    public void SuiteErrorNamesTheSweepFile()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(Path.Combine(folder.Path, "bad.json"), """{"name": "bad", "grid": {"lr": [-1]}}""");
        string suitePath = folder.Write("all.json", """{"name": "all", "sweeps": ["bad.json"]}"""u8.ToArray());

        var error = Assert.Throws<OptionException>(() => SweepConfigReader.ReadFile(suitePath));

        Assert.Contains("bad.json", error.Message);
        Assert.Contains("lr", error.Message);
    }

    [Fact]
    public void SuiteRejectsRepeatedNames()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(Path.Combine(folder.Path, "a.json"), """{"name": "same", "grid": {"lr": [0.1]}}""");
        string suitePath = folder.Write("all.json", """{"name": "all", "sweeps": ["a.json", "a.json"]}"""u8.ToArray());

        Assert.Contains("'same'", Assert.Throws<OptionException>(() => SweepConfigReader.ReadFile(suitePath)).Message);
    }

    [Fact]
    public void InvalidJsonGivesPosition()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("broken.json", "{\"name\": \"x\",\n \"grid\": {\"lr\": [0.1,,]}}"u8.ToArray());

        var error = Assert.Throws<OptionException>(() => SweepConfigReader.ReadFile(path));

        Assert.Contains("line 2", error.Message);
    }
}
