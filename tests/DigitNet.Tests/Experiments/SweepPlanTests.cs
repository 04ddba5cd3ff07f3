using System.Text.Json;
using DigitNet.Experiments;

namespace DigitNet.Tests.Experiments;

public class SweepPlanTests
{
    private static SweepConfig Read(string json) => SweepConfigReader.ReadSweep(JsonDocument.Parse(json).RootElement.Clone(), "test.json");

    private static SweepSuite Suite(params SweepConfig[] sweeps) => new("suite", "Suite", sweeps);

    [Fact]
    public void TrialsFollowRowsThenSeeds()
    {
        var plan = SweepPlan.Create(Suite(Read("""{"name": "a", "grid": {"lr": [0.1, 0.2]}, "seeds": [5, 7]}""")), threadsPerTrial: 1);

        Assert.Equal(4, plan.Trials.Count);
        Assert.Equal([0.1, 0.1, 0.2, 0.2], plan.Trials.Select(t => t.Options.LearningRate));
        Assert.Equal([5UL, 7UL, 5UL, 7UL], plan.Trials.Select(t => t.Options.Seed));
        Assert.Equal([0, 1, 2, 3], plan.Trials.Select(t => t.Index));
        Assert.All(plan.Trials, t => Assert.Equal(1, t.Options.Threads));
        Assert.Equal(4, plan.Trials.Select(t => t.Id).Distinct().Count());
    }

    [Fact]
    public void IdsDoNotDependOnConfigurationOrder()
    {
        var forward = SweepPlan.Create(Suite(Read("""{"name": "a", "grid": {"lr": [0.1, 0.2]}, "seeds": [1, 2]}""")), 1);
        var backward = SweepPlan.Create(Suite(Read("""{"name": "b", "base": {"epochs": 10}, "grid": {"lr": [0.2, 0.1]}, "seeds": [2, 1]}""")), 1);

        Assert.Equal(forward.Trials.Select(t => t.Id).Order(), backward.Trials.Select(t => t.Id).Order());
    }

    [Fact]
    public void IdsChangeWithSeedThreadsAndFineTuning()
    {
        var sweep = Read("""{"name": "a", "list": [{"label": "plain"}, {"label": "tuned", "finetune": {"epochs": 2}}], "seeds": [1, 2]}""");
        var oneThread = SweepPlan.Create(Suite(sweep), 1);
        var twoThreads = SweepPlan.Create(Suite(sweep), 2);

        Assert.Equal(4, oneThread.Trials.Select(t => t.Id).Distinct().Count());
        Assert.Empty(oneThread.Trials.Select(t => t.Id).Intersect(twoThreads.Trials.Select(t => t.Id)));
    }

    [Fact]
    public void IdIgnoresDataPath()
    {
        var options = new DigitNet.Training.TrainingOptions();

        Assert.Equal(SweepTrial.ComputeId(options, null), SweepTrial.ComputeId(options with { Data = "/elsewhere/digits.mat" }, null));
    }

    [Fact]
    public void IdenticalTrialsAcrossSweepsRunOnce()
    {
        var first = Read("""{"name": "a", "grid": {"lr": [0.1, 0.2]}, "seeds": [1]}""");
        var second = Read("""{"name": "b", "list": [{"label": "same", "lr": 0.2}, {"label": "other", "lr": 0.3}], "seeds": [1]}""");

        var plan = SweepPlan.Create(Suite(first, second), 1);

        Assert.Equal(3, plan.Trials.Count);
        var shared = plan.Trials[1];
        Assert.Equal(["a", "b"], plan.Uses[shared.Id].Select(u => u.Sweep.Name));
        Assert.Equal(plan.IdOf(second.Points[0], 1), shared.Id);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(11)]
    public void ShardsPartitionTrials(int shards)
    {
        var plan = SweepPlan.Create(Suite(Read("""{"name": "a", "grid": {"lr": [0.1, 0.2, 0.3, 0.4, 0.5]}, "seeds": 2}""")), 1);

        var parts = Enumerable.Range(0, shards).Select(i => plan.Shard(i, shards)).ToList();

        Assert.Equal(plan.Trials.Select(t => t.Id).Order(), parts.SelectMany(p => p).Select(t => t.Id).Order());
        for (int i = 0; i < shards; i++)
            Assert.All(parts[i], t => Assert.Equal(i, t.Index % shards));
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(-1, 3)]
    [InlineData(0, 0)]
    public void InvalidShardIsRejected(int shard, int shards)
    {
        var plan = SweepPlan.Create(Suite(Read("""{"name": "a", "grid": {"lr": [0.1]}}""")), 1);

        Assert.Contains("--shard", Assert.Throws<DigitNet.Training.OptionException>(() => plan.Shard(shard, shards)).Message);
    }
}
