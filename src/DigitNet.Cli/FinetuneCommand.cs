using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DigitNet.Data;
using DigitNet.Serialization;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>
/// <c>digitnet finetune</c>: loads a model file, freezes all but its last layers, retrains them on
/// digits.mat and writes the new model, reporting test accuracy and loss before and after.
/// </summary>
public static class FinetuneCommand
{
    private static readonly HashSet<string> Flags = ["help", "quiet", "json"];

    /// <summary>Settings that describe the architecture or data preparation: the model file sets them, or fine-tuning has no use for them.</summary>
    private static readonly string[] ModelSettings = ["scaling", "hidden", "activation", "loss", "layers", "bias", "dropout", "init", "rotated-copies"];

    private static readonly UnusableSettings Unusable = new("finetune", ModelSettings.ToHashSet(StringComparer.Ordinal),
        "takes the architecture, initial weights and input scaling from the --model file")
    {
        Reasons = new Dictionary<string, string>
        {
            ["rotated-copies"] = "trains on the original training samples only; use --augment affine with --rotate DEGREES for random rotations",
        },
    };

    /// <summary>Defaults for fine-tuning: a small learning rate, few epochs and early stopping on validation loss.</summary>
    public static TrainingOptions Defaults { get; } = new()
    {
        LearningRate = 0.01,
        Momentum = 0.9,
        Epochs = 10,
        Patience = 3,
        BatchSize = 32,
        StopOn = "loss",
    };

    public static int Run(IReadOnlyList<string> args)
    {
        var line = CommandLine.Parse(args, Flags);
        if (line.TakeFlag("help"))
        {
            Console.Out.Write(Help());
            return 0;
        }
        bool quiet = line.TakeFlag("quiet");
        bool json = line.TakeFlag("json");
        string modelPath = EvaluateCommand.RequireModel(line, "finetune");
        string outPath = line.TakeRequiredPath("out", "FILE.safetensors");
        int trainLayers = line.TakeInt("train-layers", 1, minimum: 1);
        var settings = TrainingSettings.Read(line, Defaults, Unusable);
        line.RejectRemaining("finetune", []);
        if (line.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{line.Positionals[0]}'; finetune takes only options (see digitnet finetune --help)");

        // The settings in the summary name the data file used, wherever it was found.
        string dataLabel = settings.DataLabel;
        var options = settings.Options with { Data = DataLocator.Resolve(settings.Options.Data, dataLabel) };
        // An --out that names the model would replace it after training, and the original would be lost.
        FileChecks.CheckDistinct(("--model", modelPath), ("--config", settings.ConfigPath), (dataLabel, options.Data), ("--out", outPath));
        FileChecks.CheckWritable(outPath, "--out", "finetuned.safetensors");

        FileChecks.CheckModel(modelPath);
        var model = ModelFile.Load(modelPath);
        var data = DigitsMat.Load(options.Data);
        EvaluateCommand.CheckCompatible(model, data.Train, modelPath);
        TrainCommand.NoteWholeBatch("finetune", options, data.Train.Count);

        var withParameters = model.Network.Layers.Where(layer => layer.Parameters.Count > 0).Select(layer => layer.Name).ToList();
        if (trainLayers > withParameters.Count)
        {
            throw new UsageException(
                $"--train-layers {trainLayers}: {modelPath} has only {withParameters.Count} layers with parameters ({string.Join(", ", withParameters)})");
        }

        var progress = new ConsoleProgress();
        bool verbose = !quiet && !json;
        FineTuneOutcome outcome;
        try
        {
            outcome = FineTuning.Run(model, options, data, trainLayers,
                batchProgress: verbose ? progress : null,
                epochCompleted: verbose ? metrics =>
                {
                    progress.Clear();
                    Console.Out.WriteLine(TrainCommand.FormatEpoch(metrics, options.Epochs));
                } : null,
                augmentationFactory: AugmentationFactory.Create);
        }
        catch (OptionException e) when (settings.NameConfigKey(e) is { } named)
        {
            throw named;
        }

        // The model file fixes the loss, so a smaller learning rate is the only hint.
        if (outcome.Training.StopReason == StopReason.Diverged)
            return TrainCommand.ReportDiverged("finetune", outcome.Training, "lower --lr");

        var summary = Summary(modelPath, options, outcome);
        ModelFile.Save(outPath, model.Network, model.Preprocessing, model.Loss.Name, model.ClassNames, summary.ToJsonString());

        if (json)
        {
            Console.Out.WriteLine(summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        var invariant = CultureInfo.InvariantCulture;
        if (!quiet)
        {
            Console.Out.WriteLine($"trained layers: {string.Join(", ", outcome.TrainedLayers)}; every other parameter frozen (checked unchanged)");
            Console.Out.WriteLine(outcome.KeptOriginal
                ? $"no epoch beat the loaded model on validation {options.StopOn}; the loaded weights are kept"
                : TrainCommand.StopLine(outcome.Training, options));
        }
        Console.Out.WriteLine(string.Create(invariant, $"before: test accuracy {outcome.TestBefore.Accuracy:F4}  test loss {outcome.TestBefore.Loss:F4}"));
        Console.Out.WriteLine(string.Create(invariant, $"after:  test accuracy {outcome.TestAfter.Accuracy:F4}  test loss {outcome.TestAfter.Loss:F4}"));
        Console.Out.WriteLine($"model written to {outPath}");
        return 0;
    }

    private static JsonObject Summary(string modelPath, TrainingOptions options, FineTuneOutcome outcome) => new()
    {
        ["finetuned_from"] = modelPath,
        ["trained_layers"] = new JsonArray(outcome.TrainedLayers.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
        ["kept_original"] = outcome.KeptOriginal,
        ["best_epoch"] = outcome.Training.BestEpoch,
        ["epochs_run"] = outcome.Training.Epochs.Count,
        ["stop_reason"] = outcome.Training.StopReason.ToString().ToLowerInvariant(),
        ["test_accuracy_before"] = outcome.TestBefore.Accuracy,
        ["test_loss_before"] = outcome.TestBefore.Loss,
        ["test_accuracy"] = outcome.TestAfter.Accuracy,
        ["test_loss"] = outcome.TestAfter.Loss,
        ["valid_loss_before"] = outcome.ValidBefore.Loss,
        ["valid_loss"] = outcome.ValidAfter.Loss,
        ["settings"] = UsedSettings(options),
    };

    /// <summary>Returns the settings fine-tuning used, without the model settings, which the model file sets instead.</summary>
    private static JsonObject UsedSettings(TrainingOptions options)
    {
        var settings = TrainingOptionTable.ToJson(options);
        foreach (string name in ModelSettings) settings.Remove(name);
        return settings;
    }

    private static string Help()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("usage: digitnet finetune --model FILE.safetensors --out NEW.safetensors [options]");
        text.AppendLine();
        text.AppendLine("Freezes every layer of the model except the last one with parameters (or the last N with");
        text.AppendLine("--train-layers N), retrains those on digits.mat with early stopping on the validation split,");
        text.AppendLine("and writes the new model. If no epoch beats the loaded model on the validation metric, the");
        text.AppendLine("loaded weights are kept. Reports test accuracy and loss before and after. A frozen batchnorm");
        text.AppendLine("layer normalises with its running statistics and leaves them unchanged.");
        text.AppendLine("Exit status: 0 when done, 2 for invalid input, 3 when the training loss became NaN or");
        text.AppendLine("infinite, in which case nothing is written.");
        text.AppendLine();
        var commandRows = new List<(string Label, string Description)>
        {
            ("--model FILE", "model file to start from"),
            ("--out FILE", "where to write the fine-tuned model"),
            ("--train-layers N", "number of last layers with parameters to train (default 1)"),
            ("--config FILE.json", "read training settings from a JSON object whose keys are the setting names\nbelow without the dashes, such as {\"epochs\": 20}; options on the command line\noverride it. A relative \"data\" path in the file is resolved against the file's folder"),
            ("--json", "print the before/after summary as JSON"),
            ("--quiet", "print only the before/after lines"),
        };
        var settingRows = TrainingOptionTable.All
            .Where(option => Array.IndexOf(ModelSettings, option.Name) < 0)
            .Select(OptionHelp.Row)
            .ToList();
        int labelWidth = OptionHelp.LabelWidth(commandRows.Concat(settingRows));

        OptionHelp.Append(text, commandRows, labelWidth);
        text.AppendLine();
        text.AppendLine("Training settings (defaults for fine-tuning: --lr 0.01 --momentum 0.9 --epochs 10 --patience 3");
        text.AppendLine("--batch-size 32 --stop-on loss); the architecture settings come from the model file:");
        OptionHelp.Append(text, settingRows, labelWidth);
        return text.ToString();
    }
}
