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
}
