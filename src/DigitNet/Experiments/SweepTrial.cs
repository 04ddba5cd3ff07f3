using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DigitNet.Training;

namespace DigitNet.Experiments;

/// <summary>
/// One training run of a sweep: a settings point with one seed. The id is derived from the full
/// settings (seed and threads included, the data path excluded), so the same trial has the same id
/// in every run, shard and results file, whatever the order of the configuration.
/// </summary>
/// <param name="Index">Position in the deterministic order of <see cref="SweepPlan.Trials"/> (sweeps in order, then rows, then seeds).</param>
/// <param name="Id">16 hexadecimal digits of the SHA-256 of <see cref="CanonicalJson"/>.</param>
/// <param name="Options">Settings of the run, with the seed and thread count filled in.</param>
/// <param name="FineTune">Settings of the fine-tuning stage, or null.</param>
public sealed record SweepTrial(int Index, string Id, TrainingOptions Options, TrainingOptions? FineTune)
{
    /// <summary>
    /// The settings that define the trial as compact JSON with keys in ordinal order: every
    /// training setting except <c>data</c>, and the fine-tuning settings when there is a second stage.
    /// </summary>
    public static string CanonicalJson(TrainingOptions options, TrainingOptions? fineTune)
    {
        var root = new JsonObject { ["settings"] = CanonicalSettings(options) };
        if (fineTune is not null) root["finetune"] = CanonicalSettings(fineTune);
        return root.ToJsonString();
    }

    /// <summary>The trial id of <paramref name="options"/> and <paramref name="fineTune"/>.</summary>
    public static string ComputeId(TrainingOptions options, TrainingOptions? fineTune)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson(options, fineTune)));
        return Convert.ToHexStringLower(hash.AsSpan(0, 8));
    }

    private static JsonObject CanonicalSettings(TrainingOptions options)
    {
        var all = TrainingOptionTable.ToJson(options);
        var sorted = new JsonObject();
        foreach (var (key, value) in all.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            // The data path differs between machines that share a sweep, so it is not part of the identity.
            if (key == "data") continue;
            sorted[key] = value?.DeepClone();
        }
        return sorted;
    }
}

/// <summary>Which rows and seeds of which sweep a trial serves; identical trials of different sweeps are run once and shared.</summary>
public sealed record TrialUse(SweepConfig Sweep, SweepPoint Point, ulong Seed);

/// <summary>
/// The trials of a suite in a fixed order, with duplicates (same id) merged: a baseline that
/// appears in several sweeps runs once. Shards take every n-th trial of this order.
/// </summary>
public sealed class SweepPlan
{
    private readonly Dictionary<string, SweepTrial> _byId;

    private SweepPlan(SweepSuite suite, List<SweepTrial> trials, Dictionary<string, List<TrialUse>> uses, int threadsPerTrial)
    {
        Suite = suite;
        Trials = trials;
        Uses = uses;
        ThreadsPerTrial = threadsPerTrial;
        _byId = trials.ToDictionary(t => t.Id, StringComparer.Ordinal);
    }

    public SweepSuite Suite { get; }

    /// <summary>Distinct trials in run order.</summary>
    public IReadOnlyList<SweepTrial> Trials { get; }

    /// <summary>For each trial id, the sweep rows it belongs to.</summary>
    public IReadOnlyDictionary<string, List<TrialUse>> Uses { get; }

    /// <summary>Worker threads of every trial; part of each trial's settings and id, because results differ between thread counts.</summary>
    public int ThreadsPerTrial { get; }

    /// <summary>Expands every sweep of <paramref name="suite"/> into rows times seeds.</summary>
    public static SweepPlan Create(SweepSuite suite, int threadsPerTrial)
    {
        if (threadsPerTrial < 1)
            throw new OptionException($"--threads-per-trial: invalid value {threadsPerTrial}; expected 1 or more");

        var trials = new List<SweepTrial>();
        var uses = new Dictionary<string, List<TrialUse>>(StringComparer.Ordinal);
        foreach (var sweep in suite.Sweeps)
        {
            foreach (var point in sweep.Points)
            {
                foreach (ulong seed in sweep.Seeds)
                {
                    var options = point.Options with { Seed = seed, Threads = threadsPerTrial, Data = null };
                    var fineTune = point.FineTune is null ? null : point.FineTune with { Seed = seed, Threads = threadsPerTrial, Data = null };
                    string id = SweepTrial.ComputeId(options, fineTune);
                    if (!uses.TryGetValue(id, out var list))
                    {
                        list = [];
                        uses[id] = list;
                        trials.Add(new SweepTrial(trials.Count, id, options, fineTune));
                    }
                    list.Add(new TrialUse(sweep, point, seed));
                }
            }
        }
        return new SweepPlan(suite, trials, uses, threadsPerTrial);
    }

    /// <summary>The trial with <paramref name="id"/>, or null when the plan has none.</summary>
    public SweepTrial? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>The trials of shard <paramref name="shard"/> (0-based) of <paramref name="shards"/>: indices shard, shard + n, shard + 2n, ...</summary>
    public IReadOnlyList<SweepTrial> Shard(int shard, int shards)
    {
        if (shards < 1 || shard < 0 || shard >= shards)
            throw new OptionException($"--shard: invalid value {shard}/{shards}; expected i/n with n >= 1 and 0 <= i < n");
        return Trials.Where(t => t.Index % shards == shard).ToList();
    }

    /// <summary>The id of the trial that runs <paramref name="point"/> with <paramref name="seed"/>.</summary>
    public string IdOf(SweepPoint point, ulong seed)
    {
        var options = point.Options with { Seed = seed, Threads = ThreadsPerTrial, Data = null };
        var fineTune = point.FineTune is null ? null : point.FineTune with { Seed = seed, Threads = ThreadsPerTrial, Data = null };
        return SweepTrial.ComputeId(options, fineTune);
    }
}
