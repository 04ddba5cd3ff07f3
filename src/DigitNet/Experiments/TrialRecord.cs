using System.Text.Json;
using System.Text.Json.Nodes;
using DigitNet.Training;

namespace DigitNet.Experiments;

/// <summary>
/// The result of one finished trial: one line of a sweep's JSON-lines results file with the full
/// settings, the per-epoch history and the test metrics. A diverged trial (stop reason
/// <c>diverged</c>) has null test metrics and best epoch, because JSON has no NaN or infinity.
/// </summary>
public sealed class TrialRecord
{
    /// <summary>The <c>stop_reason</c> of a trial whose loss became NaN or infinite, as <see cref="StopReason.Diverged"/> is written.</summary>
    public const string DivergedStopReason = "diverged";

    private TrialRecord(JsonObject json, string id, bool diverged, double? testAccuracy, double? testLoss, int? bestEpoch, double trainSeconds,
        IReadOnlyList<EpochMetrics> epochs, int? fineTuneStartEpoch)
    {
        Json = json;
        Id = id;
        Diverged = diverged;
        TestAccuracy = testAccuracy;
        TestLoss = testLoss;
        BestEpoch = bestEpoch;
        TrainSeconds = trainSeconds;
        Epochs = epochs;
        FineTuneStartEpoch = fineTuneStartEpoch;
    }

    /// <summary>The trial id (<see cref="SweepTrial.Id"/>).</summary>
    public string Id { get; }

    /// <summary>Whether a loss of the trial became NaN or infinite; such a record has no test metrics.</summary>
    public bool Diverged { get; }

    /// <summary>Test accuracy, or null for a diverged trial.</summary>
    public double? TestAccuracy { get; }

    /// <summary>Test loss under the trial's own loss function (squared error or cross-entropy), or null for a diverged trial.</summary>
    public double? TestLoss { get; }

    /// <summary>The epoch whose weights were tested (counting fine-tuning epochs after the first stage), or null for a diverged trial.</summary>
    public int? BestEpoch { get; }

    /// <summary>Seconds spent in training steps, without evaluation; varies from run to run.</summary>
    public double TrainSeconds { get; }

    /// <summary>
    /// Metrics after each epoch; fine-tuning epochs follow the first stage's with continuing
    /// numbers. A diverged trial has the epochs before the one whose metrics became NaN or infinite.
    /// </summary>
    public IReadOnlyList<EpochMetrics> Epochs { get; }

    /// <summary>The first epoch number of the fine-tuning stage, or null for a plain trial.</summary>
    public int? FineTuneStartEpoch { get; }

    /// <summary>The whole record as stored.</summary>
    public JsonObject Json { get; }

    /// <summary>The record as one line of JSON, without the line break.</summary>
    public string ToJsonLine() => Json.ToJsonString();

    /// <summary>Builds the record of a finished trial.</summary>
    public static TrialRecord Create(SweepTrial trial, TrialResult result)
    {
        var epochs = EpochMetrics.ToJson(result.Epochs);

        var json = new JsonObject
        {
            ["id"] = trial.Id,
            ["seed"] = trial.Options.Seed,
            ["test_accuracy"] = result.Test?.Accuracy,
            ["test_loss"] = result.Test?.Loss,
            ["test_correct"] = result.Test?.Correct,
            ["test_count"] = result.Test?.Count,
            ["best_epoch"] = result.BestEpoch,
            ["stop_reason"] = result.StopReason.ToString().ToLowerInvariant(),
            ["train_seconds"] = result.TrainSeconds,
            ["architecture"] = result.Architecture,
            ["parameters"] = result.ParameterCount,
            ["settings"] = TrainingOptionTable.ToJson(trial.Options),
        };
        if (result.DivergedEpoch is { } divergedEpoch) json["diverged_epoch"] = divergedEpoch;
        if (trial.FineTune is not null)
        {
            json["finetune"] = TrainingOptionTable.ToJson(trial.FineTune);
            json["finetune_start_epoch"] = result.FineTuneStartEpoch;
        }
        json["epochs"] = epochs;
        return Parse(json);
    }

    /// <summary>Parses one line of a results file.</summary>
    /// <exception cref="FormatException">The line is not a JSON object with the fields of a record.</exception>
    public static TrialRecord Parse(string line)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(line);
        }
        catch (JsonException e)
        {
            // The JsonException message ends in System.Text.Json's zero-based LineNumber and
            // BytePositionInLine, so only the position is kept, counted from 1.
            throw new FormatException($"not valid JSON (syntax error at byte {e.BytePositionInLine + 1} of the line)");
        }
        if (node is not JsonObject json) throw new FormatException("not a JSON object");
        return Parse(json);
    }

    private static TrialRecord Parse(JsonObject json)
    {
        try
        {
            string id = json["id"]?.GetValue<string>() ?? throw new FormatException("field 'id' is missing");
            var epochs = new List<EpochMetrics>();
            if (json["epochs"] is JsonArray array)
            {
                foreach (var item in array)
                {
                    if (item is not JsonObject e) throw new FormatException("field 'epochs' must contain objects");
                    epochs.Add(new EpochMetrics(
                        Required<int>(e, "epoch"), Required<double>(e, "train_loss"), Required<double>(e, "train_accuracy"),
                        Required<double>(e, "valid_loss"), Required<double>(e, "valid_accuracy"),
                        Required<double>(e, "learning_rate"), Required<double>(e, "seconds")));
                }
            }
            int? fineTuneStart = json["finetune_start_epoch"] is { } start ? start.GetValue<int>() : null;
            bool diverged = json["stop_reason"]?.GetValue<string>() == DivergedStopReason;
            return new TrialRecord(json, id, diverged, Metric<double>(json, "test_accuracy", diverged), Metric<double>(json, "test_loss", diverged),
                Metric<int>(json, "best_epoch", diverged), Required<double>(json, "train_seconds"), epochs, fineTuneStart);
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException)
        {
            throw new FormatException($"a field has the wrong type ({e.Message})");
        }
    }

    private static T Required<T>(JsonObject json, string name) =>
        json[name] is { } value ? value.GetValue<T>() : throw new FormatException($"field '{name}' is missing");

    /// <summary>
    /// Reads a test metric, which a diverged trial has as null or not at all, and every other
    /// trial must have.
    /// </summary>
    private static T? Metric<T>(JsonObject json, string name, bool diverged) where T : struct
    {
        if (json[name] is { } value) return value.GetValue<T>();
        if (diverged) return null;
        if (json.ContainsKey(name))
            throw new FormatException($"field '{name}' is null, which only a trial with stop_reason '{DivergedStopReason}' may have");
        throw new FormatException($"field '{name}' is missing");
    }
}
