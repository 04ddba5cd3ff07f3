using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DigitNet.Data;
using DigitNet.Serialization;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary><c>digitnet train</c>: trains a classifier on digits.mat and reports its test accuracy.</summary>
public static class TrainCommand
{
    private static readonly HashSet<string> Flags = ["help", "quiet"];

    public static int Run(IReadOnlyList<string> args)
    {
        var line = CommandLine.Parse(args, Flags);
        if (line.TakeFlag("help"))
        {
            Console.Out.Write(Help());
            return 0;
        }
        bool quiet = line.TakeFlag("quiet");
        string? metricsPath = line.TakePath("metrics");
        string? modelPath = line.TakePath("out");
        string? plotPath = line.TakePath("plot");
        var settings = TrainingSettings.Read(line, new TrainingOptions());
        line.RejectRemaining("train", []);
        if (line.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{line.Positionals[0]}'; train takes only options (see digitnet train --help)");

        // The settings written with the results name the data file used, wherever it was found.
        string dataLabel = settings.DataLabel;
        var options = settings.Options with { Data = DataLocator.Resolve(settings.Options.Data, dataLabel) };
        FileChecks.CheckDistinct(("--config", settings.ConfigPath), (dataLabel, options.Data),
            ("--metrics", metricsPath), ("--out", modelPath), ("--plot", plotPath));
        if (metricsPath is not null) FileChecks.CheckWritable(metricsPath, "--metrics", "metrics.json");
        if (modelPath is not null) FileChecks.CheckWritable(modelPath, "--out", "model.safetensors");
        if (plotPath is not null) FileChecks.CheckWritable(plotPath, "--plot", "curves.png");
        var data = DigitsMat.Load(options.Data);
        var samples = TrainingRun.TrainingSamples(options, data.Train.Count);
        NoteWholeBatch("train", options, samples.Count, samples.Detail);

        var progress = new ConsoleProgress();
        RunOutcome outcome;
        try
        {
            outcome = TrainingRun.Run(
                options, data,
                batchProgress: quiet ? null : progress,
                epochCompleted: quiet ? null : metrics =>
                {
                    progress.Clear();
                    Console.Out.WriteLine(FormatEpoch(metrics, options.Epochs));
                },
                augmentationFactory: AugmentationFactory.Create);
        }
        catch (OptionException e) when (settings.NameConfigKey(e) is { } named)
        {
            throw named;
        }

        if (outcome.Training.StopReason == StopReason.Diverged)
            return ReportDiverged("train", outcome.Training, options.Loss == "mse" ? "lower --lr, or use --loss cross-entropy with --layers" : "lower --lr");

        if (!quiet)
            Console.Out.WriteLine(StopLine(outcome.Training, options));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"test accuracy {outcome.Test.Accuracy:F4}  test loss {outcome.Test.Loss:F4}  ({outcome.Test.Correct}/{outcome.Test.Count} correct)"));
        WarnIfNotLearned(outcome.Training.Epochs, data.Train.ClassCount);

        if (metricsPath is not null) AtomicFile.WriteAllText(metricsPath, MetricsJson(outcome).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (plotPath is not null && outcome.Training.Epochs.Count > 0)
            Plotting.PngFile.Write(plotPath, Plotting.TrainingCurves.RenderPng(outcome.Training.Epochs, outcome.Training.BestEpoch));
        if (modelPath is not null)
        {
            // With early stopping the trainer has already restored the best epoch's weights into the network.
            var summary = MetricsJson(outcome);
            summary.Remove("epochs");
            ModelFile.Save(modelPath, outcome.Network, outcome.Preprocessing, outcome.Loss.Name, data.Train.ClassNames, summary.ToJsonString());
            if (!quiet) Console.Out.WriteLine($"model written to {modelPath}");
        }
        return 0;
    }

    /// <summary>Returns the stop line: why training stopped, which epoch's weights were kept and how long it took.</summary>
    internal static string StopLine(TrainingResult training, TrainingOptions options)
    {
        // Without --patience the final weights are kept, whichever epoch validated best.
        string keptWeights = options.Patience > 0
            ? $"kept the best epoch by validation {options.StopOn}, {training.BestEpoch}"
            : $"kept the last epoch, {training.BestEpoch} (--patience keeps the best by validation {options.StopOn})";
        return string.Create(CultureInfo.InvariantCulture,
            $"stopped: {Describe(training.StopReason)}; {keptWeights}; training took {training.TrainSeconds:F2} s");
    }

    /// <summary>
    /// Warns on standard error when no epoch got a validation accuracy clearly above guessing: at
    /// least 1.5 times the accuracy of guessing among the classes. A learning rate so large that
    /// every unit saturates, or too few updates, ends a run normally, so without the warning its
    /// model would pass for a trained one.
    /// </summary>
    internal static void WarnIfNotLearned(IReadOnlyList<EpochMetrics> epochs, int classCount)
    {
        if (epochs.Count == 0 || classCount < 2) return;
        double best = epochs.Max(epoch => epoch.ValidAccuracy);
        double threshold = 1.5 / classCount;
        if (best >= threshold) return;
        Diagnostics.Warning("train", string.Create(CultureInfo.InvariantCulture,
            $"the best validation accuracy, {best:F4}, is below {threshold:F4}, close to guessing among {classCount} classes, so the network did not learn; check --lr (too large saturates the units), --batch-size and --epochs (too few updates), --layers and --loss"));
    }

    /// <summary>
    /// Notes on standard error, under the name of <paramref name="command"/>, when <c>--batch-size</c>
    /// is larger than the training split, which the trainer then uses as one batch per epoch, so
    /// that a mistyped size does not pass unseen.
    /// </summary>
    /// <param name="countDetail">What the sample count is made of, such as "5000 plus 5000 rotated copies"; null for none.</param>
    internal static void NoteWholeBatch(string command, TrainingOptions options, int trainCount, string? countDetail = null)
    {
        if (options.BatchSize > trainCount)
        {
            string detail = countDetail is null ? "" : $" ({countDetail})";
            Diagnostics.Note(command,
                $"--batch-size {options.BatchSize} is larger than the {trainCount} training samples{detail}, so each epoch is one batch of all {trainCount}");
        }
    }

    /// <summary>
    /// Reports a run whose training loss became NaN or infinite, and returns the exit code for it.
    /// The caller writes nothing and prints no test result: a diverged network is not a result
    /// worth keeping, and scripts must be able to tell this run from a good one.
    /// </summary>
    internal static int ReportDiverged(string command, TrainingResult training, string hint)
    {
        Diagnostics.Error(command, $"the training loss became NaN or infinite in epoch {training.Epochs.Count + 1}; {hint}");
        return Program.DivergedExitCode;
    }

    private static string Describe(StopReason reason) => reason switch
    {
        StopReason.Completed => "all epochs done",
        StopReason.EarlyStopped => "no validation improvement within the patience",
        StopReason.Diverged => "the training loss became NaN or infinite; lower --lr",
        StopReason.Cancelled => "cancelled",
        _ => reason.ToString(),
    };

    /// <summary>One line per epoch: train and validation loss and accuracy, and seconds spent training.</summary>
    public static string FormatEpoch(EpochMetrics m, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch.ToString().PadLeft(epochs.ToString().Length)}/{epochs}  train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:F4}  valid loss {m.ValidLoss:F4} acc {m.ValidAccuracy:F4}  {m.Seconds:F2} s");

    /// <summary>The metrics file: per-epoch history, best epoch, test metrics and the full settings.</summary>
    public static JsonObject MetricsJson(RunOutcome outcome)
    {
        var epochs = EpochMetrics.ToJson(outcome.Training.Epochs);
        return new JsonObject
        {
            ["epochs"] = epochs,
            ["best_epoch"] = outcome.Training.BestEpoch,
            ["stop_reason"] = outcome.Training.StopReason.ToString().ToLowerInvariant(),
            ["test_accuracy"] = outcome.Test.Accuracy,
            ["test_loss"] = outcome.Test.Loss,
            ["train_seconds"] = outcome.Training.TrainSeconds,
            ["architecture"] = outcome.Network.Architecture.LayersText,
            ["parameters"] = outcome.Network.ParameterValues.Length,
            ["settings"] = UsedSettingsJson(outcome.Options),
        };
    }

    /// <summary>
    /// Returns the settings of a run as JSON, without those it did not use: a --layers list
    /// replaces the hidden sizes, activation, dropout and bias.
    /// </summary>
    internal static JsonObject UsedSettingsJson(TrainingOptions options)
    {
        var settings = TrainingOptionTable.ToJson(options);
        if (options.Layers is not null)
        {
            foreach (string name in TrainingSettings.ReplacedByLayersNames)
                settings.Remove(name);
        }
        return settings;
    }

    private static string Help()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("usage: digitnet train [options]");
        text.AppendLine();
        text.AppendLine("Trains a digit classifier on digits.mat and reports accuracy and loss on the test split. It");
        text.AppendLine("keeps the last epoch's weights, or with --patience those of the best epoch on the validation");
        text.AppendLine("split. With no options it trains the classic baseline: 256-50-10 sigmoid network, squared");
        text.AppendLine("error, learning rate 0.2, batch size 1, 10 epochs.");
        text.AppendLine("Exit status: 0 when done, 2 for invalid input, 3 when the training loss became NaN or");
        text.AppendLine("infinite, in which case nothing is written.");
        text.AppendLine();
        var commandRows = new List<(string Label, string Description)>
        {
            ("--config FILE.json", "read training settings from a JSON object whose keys are the setting names\nbelow without the dashes, such as {\"epochs\": 20}; options on the command line\noverride it. A relative \"data\" path in the file is resolved against the file's folder"),
            ("--metrics FILE.json", "write per-epoch metrics, test metrics and settings as JSON"),
            ("--out FILE.safetensors", "save the trained model (the best epoch's weights when --patience is set)"),
            ("--plot FILE.png", "draw training and validation loss and accuracy per epoch"),
            ("--quiet", "print only the test result"),
        };
        var settingRows = TrainingOptionTable.All.Select(OptionHelp.Row).ToList();
        int labelWidth = OptionHelp.LabelWidth(commandRows.Concat(settingRows));

        OptionHelp.Append(text, commandRows, labelWidth);
        text.AppendLine();
        text.AppendLine("Training settings:");
        OptionHelp.Append(text, settingRows, labelWidth);
        return text.ToString();
    }
}
