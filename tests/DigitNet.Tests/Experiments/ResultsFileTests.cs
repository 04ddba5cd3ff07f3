using System.Text;
using System.Text.Json.Nodes;
using DigitNet.Experiments;
using DigitNet.Tests.Data;

namespace DigitNet.Tests.Experiments;

public class ResultsFileTests
{
    private static string Line(string id, double accuracy) => new JsonObject
    {
        ["id"] = id,
        ["test_accuracy"] = accuracy,
        ["test_loss"] = 0.1,
        ["best_epoch"] = 3,
        ["train_seconds"] = 1.5,
        ["epochs"] = new JsonArray(new JsonObject
        {
            ["epoch"] = 1, ["train_loss"] = 0.5, ["train_accuracy"] = 0.8, ["valid_loss"] = 0.6,
            ["valid_accuracy"] = 0.75, ["learning_rate"] = 0.2, ["seconds"] = 0.4,
        }),
    }.ToJsonString();

    [Fact]
    public void MissingFileHasNoRecords()
    {
        var content = ResultsFile.Read("/nonexistent/results.jsonl", repair: false);

        Assert.Empty(content.Records);
        Assert.False(content.TornLine);
    }

    [Fact]
    public void RecordsRoundTrip()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("results.jsonl", Encoding.UTF8.GetBytes(Line("a", 0.9) + "\n" + Line("b", 0.8) + "\n"));

        var content = ResultsFile.Read(path, repair: false);

        Assert.Equal(["a", "b"], content.Records.Select(r => r.Id));
        Assert.Equal(0.8, content.Records[1].TestAccuracy);
        Assert.Equal(3, content.Records[0].BestEpoch);
        Assert.Equal(0.75, content.Records[0].Epochs[0].ValidAccuracy);
        Assert.False(content.TornLine);
    }

    [Fact]
    public void TornLastLineIsSkippedAndRepaired()
    {
        using var folder = new TempDirectory();
        string whole = Line("a", 0.9) + "\n";
        string path = folder.Write("results.jsonl", Encoding.UTF8.GetBytes(whole + Line("b", 0.8)[..25]));

        var readOnly = ResultsFile.Read(path, repair: false);
        Assert.True(readOnly.TornLine);
        Assert.Equal(["a"], readOnly.Records.Select(r => r.Id));
        Assert.NotEqual(whole, File.ReadAllText(path));

        var repaired = ResultsFile.Read(path, repair: true);
        Assert.True(repaired.TornLine);
        Assert.Equal(whole, File.ReadAllText(path));
        Assert.False(ResultsFile.Read(path, repair: true).TornLine);
    }

    [Fact]
    public void CorruptMiddleLineIsAnError()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("results.jsonl", Encoding.UTF8.GetBytes(Line("a", 0.9) + "\n{\"id\": \"b\"\n" + Line("c", 0.7) + "\n"));

        var error = Assert.Throws<FormatException>(() => ResultsFile.Read(path, repair: true));

        Assert.Contains("line 2", error.Message);
    }

    [Fact]
    public void RepeatedIdKeepsFirstRecord()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("results.jsonl", Encoding.UTF8.GetBytes(Line("a", 0.9) + "\n" + Line("a", 0.1) + "\n"));

        var content = ResultsFile.Read(path, repair: false);

        Assert.Single(content.Records);
        Assert.Equal(0.9, content.Records[0].TestAccuracy);
        Assert.Equal(1, content.Duplicates);
    }

    [Fact]
    public void AppendAddsOneLinePerRecord()
    {
        using var folder = new TempDirectory();
        string path = Path.Combine(folder.Path, "results.jsonl");
        var record = TrialRecord.Parse(Line("a", 0.9));

        using (var file = ResultsFile.OpenAppend(path))
        {
            file.Append(record);
            file.Append(TrialRecord.Parse(Line("b", 0.5)));
        }

        Assert.Equal(Line("a", 0.9) + "\n" + Line("b", 0.5) + "\n", File.ReadAllText(path));
    }

    private static string DivergedLine(string id) => new JsonObject
    {
        ["id"] = id,
        ["test_accuracy"] = null,
        ["test_loss"] = null,
        ["best_epoch"] = null,
        ["stop_reason"] = "diverged",
        ["train_seconds"] = 0.2,
        ["diverged_epoch"] = 1,
        ["epochs"] = new JsonArray(),
    }.ToJsonString();

    [Fact]
    public void DivergedRecordRoundTrips()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("results.jsonl", Encoding.UTF8.GetBytes(DivergedLine("a") + "\n" + Line("b", 0.8) + "\n"));

        var content = ResultsFile.Read(path, repair: false);

        Assert.True(content.Records[0].Diverged);
        Assert.Null(content.Records[0].TestAccuracy);
        Assert.Null(content.Records[0].BestEpoch);
        Assert.False(content.Records[1].Diverged);
        Assert.Equal(DivergedLine("a") + "\n" + Line("b", 0.8) + "\n", ResultsFile.Format(content.Records));
    }

    [Fact]
    public void NullMetricNeedsDivergedStop()
    {
        string line = DivergedLine("a").Replace("\"diverged\"", "\"completed\"");

        var error = Assert.Throws<FormatException>(() => TrialRecord.Parse(line));

        Assert.Contains("field 'test_accuracy' is null, which only a trial with stop_reason 'diverged' may have", error.Message);
    }

    [Theory]
    [InlineData("{ \"name\": \"s\", \"base\": {\"epochs\": 1} }\n", "a sweep configuration")]
    [InlineData("{\n  // no final line break\n  \"name\": \"s\",\n  \"grid\": {\"lr\": [0.1]}\n}", "a sweep configuration")]
    [InlineData("{ \"name\": \"all\", \"sweeps\": [\"a.json\"] }\n", "a sweep suite configuration")]
    [InlineData("{\n  \"test_accuracy\": 0.9,\n  \"settings\": {}\n}\n", "a metrics file of digitnet train")]
    public void OtherJsonFileIsNamed(string text, string format)
    {
        using var folder = new TempDirectory();
        string path = folder.Write("other.json", Encoding.UTF8.GetBytes(text));

        var error = Assert.Throws<FormatException>(() => ResultsFile.Read(path, repair: true));

        Assert.Equal($"{path}: this is {format}, not a results file; give the results.jsonl files that digitnet sweep wrote", error.Message);
        Assert.Equal(text, File.ReadAllText(path));
    }

    [Fact]
    public void PngFileIsNamed()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("figure.png", [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);

        var error = Assert.Throws<FormatException>(() => ResultsFile.Read(path, repair: false));

        Assert.StartsWith($"{path}: this is a PNG image, not a results file;", error.Message);
    }
}
