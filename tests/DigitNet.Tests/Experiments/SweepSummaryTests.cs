using System.Text.Json;
using System.Text.Json.Nodes;
using DigitNet.Experiments;

namespace DigitNet.Tests.Experiments;

public class SweepSummaryTests
{
    [Fact]
    public void MeanStdUsesSampleDeviation()
    {
        var value = MeanStd.Of([0.95, 0.96, 0.97]);

        Assert.Equal(0.96, value.Mean, 12);
        Assert.Equal(0.01, value.Std, 12);
        Assert.Equal(3, value.Count);
    }

    [Fact]
    public void MeanStdOfOneValueHasNoDeviation()
    {
        var value = MeanStd.Of([0.5]);

        Assert.Equal(0.5, value.Mean);
        Assert.True(double.IsNaN(value.Std));
        Assert.Equal("0.5000", SweepMarkdown.FormatMeanStd(value, 4));
        Assert.Equal("–", SweepMarkdown.FormatMeanStd(MeanStd.Of([]), 4));
    }

    [Fact]
    public void SummaryGroupsRecordsBySeed()
    {
        var sweep = SweepConfigReader.ReadSweep(JsonDocument.Parse("""
            {"name": "s", "base": {"epochs": 2}, "grid": {"hidden": [[8], [16]]}, "seeds": [1, 2],
             "report": {"reference": {"8": 0.9}}}
            """).RootElement.Clone(), "s.json");
        var plan = SweepPlan.Create(new SweepSuite("s", "S", [sweep]), 1);

        // Row "8" has both seeds, row "16" only seed 2; a record of another sweep is ignored.
        var records = new[]
        {
            Record(plan.IdOf(sweep.Points[0], 1), 0.90, epochs: 2),
            Record(plan.IdOf(sweep.Points[0], 2), 0.94, epochs: 1),
            Record(plan.IdOf(sweep.Points[1], 2), 0.80, epochs: 2),
            Record("0000000000000000", 0.10, epochs: 2),
        }.ToDictionary(r => r.Id);

        var summary = SweepSummary.Create(sweep, plan, records);

        Assert.Equal(2, summary.Rows[0].Found);
        Assert.Equal(0.92, summary.Rows[0].TestAccuracy.Mean, 12);
        Assert.Equal(1, summary.Rows[1].Found);
        Assert.Equal(1, summary.MissingTrials);
        Assert.Equal([1, 2], summary.Rows[0].Curves.Epochs);
        Assert.Equal(0.5, summary.Rows[0].Curves.ValidAccuracy[1], 12);

        string markdown = SweepMarkdown.Render(summary, [("curves", "images/s-curves.png")], "##");
        Assert.Contains("| 8 | 2 | 0.9200 ± 0.0283 |", markdown);
        Assert.Contains("| 16 | 1/2 | 0.8000 |", markdown);
        Assert.Contains("report (test accuracy)", markdown);
        Assert.Contains("![curves](images/s-curves.png)", markdown);
        Assert.Contains("`epochs=2`", markdown);
    }

    [Fact]
    public void DivergedRecordsAreCountedNotAveraged()
    {
        var sweep = SweepConfigReader.ReadSweep(JsonDocument.Parse("""
            {"name": "s", "base": {"epochs": 2}, "grid": {"lr": [0.1, 100]}, "seeds": [1, 2]}
            """).RootElement.Clone(), "s.json");
        var plan = SweepPlan.Create(new SweepSuite("s", "S", [sweep]), 1);

        // Row "0.1" has one result and one diverged seed, row "100" two diverged seeds.
        var records = new[]
        {
            Record(plan.IdOf(sweep.Points[0], 1), 0.90, epochs: 2),
            Diverged(plan.IdOf(sweep.Points[0], 2)),
            Diverged(plan.IdOf(sweep.Points[1], 1)),
            Diverged(plan.IdOf(sweep.Points[1], 2)),
        }.ToDictionary(r => r.Id);

        var summary = SweepSummary.Create(sweep, plan, records);

        Assert.Equal(2, summary.Rows[0].Found);
        Assert.Equal(1, summary.Rows[0].Diverged);
        Assert.Equal(1, summary.Rows[0].TestAccuracy.Count);
        Assert.Equal(0.90, summary.Rows[0].TestAccuracy.Mean, 12);
        Assert.Equal([1, 2], summary.Rows[0].Curves.Epochs);
        Assert.Equal(0, summary.Rows[1].WithMetrics);
        Assert.Equal(0, summary.MissingTrials);
        Assert.Equal(3, summary.DivergedTrials);

        string markdown = SweepMarkdown.Render(summary, [], "##");
        Assert.Contains("| 0.1 | 2 (1 diverged) | 0.9000 | 0.0500 | 2.0 | 1.0 |", markdown);
        Assert.Contains("| 100 | 2 (2 diverged) | – | – | – | – |", markdown);
        Assert.Contains("3 trials of this sweep diverged", markdown);
        Assert.DoesNotContain("no result yet", markdown);
    }

    [Theory]
    [InlineData(0, "0 trials")]
    [InlineData(1, "1 trial")]
    [InlineData(2, "2 trials")]
    public void CountUsesSingularForOne(int count, string expected)
    {
        Assert.Equal(expected, SweepMarkdown.Count(count, "trial"));
    }

    [Fact]
    public void WithoutSecondsDropsLastColumn()
    {
        string markdown = "text | kept\n| a | b | seconds |\n| --- | ---: | ---: |\n| x | 1 | 12.5 |\n";

        Assert.Equal("text | kept\n| a | b |\n| --- | ---: |\n| x | 1 |\n", SweepMarkdown.WithoutSeconds(markdown));
    }

    private static TrialRecord Diverged(string id) => TrialRecord.Parse(new JsonObject
    {
        ["id"] = id, ["test_accuracy"] = null, ["test_loss"] = null, ["best_epoch"] = null,
        ["stop_reason"] = "diverged", ["train_seconds"] = 0.5, ["diverged_epoch"] = 1, ["epochs"] = new JsonArray(),
    }.ToJsonString());

    private static TrialRecord Record(string id, double accuracy, int epochs)
    {
        var history = new JsonArray();
        for (int e = 1; e <= epochs; e++)
        {
            history.Add(new JsonObject
            {
                ["epoch"] = e, ["train_loss"] = 0.1, ["train_accuracy"] = 0.5, ["valid_loss"] = 0.2,
                ["valid_accuracy"] = 0.5, ["learning_rate"] = 0.2, ["seconds"] = 0.1,
            });
        }
        var json = new JsonObject
        {
            ["id"] = id, ["test_accuracy"] = accuracy, ["test_loss"] = 0.05, ["best_epoch"] = epochs,
            ["train_seconds"] = 1.0, ["epochs"] = history,
        };
        return TrialRecord.Parse(json.ToJsonString());
    }
}
