using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DigitNet.Cli.Plotting;
using DigitNet.Data;
using DigitNet.Serialization;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>
/// <c>digitnet evaluate</c>: loads a model file and reports accuracy, loss, per-class precision and
/// recall, the confusion matrix and the most confident mistakes on one split of digits.mat.
/// </summary>
public static class EvaluateCommand
{
    private static readonly HashSet<string> Flags = ["help", "json"];
    private static readonly string[] Splits = ["train", "valid", "test"];

    public static int Run(IReadOnlyList<string> args)
    {
        var line = CommandLine.Parse(args, Flags);
        if (line.TakeFlag("help"))
        {
            Console.Out.Write(Help());
            return 0;
        }
        bool json = line.TakeFlag("json");
        string modelPath = RequireModel(line, "evaluate");
        string? dataOption = line.TakePath("data");
        string splitName = line.Take("split") ?? "test";
        if (Array.IndexOf(Splits, splitName) < 0)
            throw new UsageException($"--split: invalid value '{splitName}'; expected train, valid or test");
        string? plotPath = line.TakePath("plot");
        int mistakeCount = line.TakeInt("mistakes", 10, minimum: 0, maximum: 1000);
        line.RejectRemaining("evaluate", []);
        if (line.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{line.Positionals[0]}'; evaluate takes only options (see digitnet evaluate --help)");
        string dataPath = DataLocator.Resolve(dataOption);
        FileChecks.CheckDistinct(("--model", modelPath), (FileChecks.DataLabel(dataOption), dataPath), ("--plot", plotPath));
        if (plotPath is not null) FileChecks.CheckWritable(plotPath, "--plot", "evaluation.png");

        FileChecks.CheckModel(modelPath);
        var model = ModelFile.Load(modelPath);
        var splits = DigitsMat.Load(dataPath);
        var raw = splitName switch { "train" => splits.Train, "valid" => splits.Valid, _ => splits.Test };
        CheckCompatible(model, raw, modelPath);

        var data = model.Preprocessing.Apply(raw);
        int classes = model.Network.ClassCount;
        var predictions = new int[data.Count];
        var probabilities = new float[data.Count * classes];
        var result = new Evaluator(model.Network, model.Loss).Evaluate(data, predictions, probabilities);
        var report = ClassificationReport.Create(data.Labels, predictions, probabilities, classes);
        var mistakes = report.Mistakes.Take(mistakeCount).ToList();

        if (json)
            Console.Out.WriteLine(ToJson(modelPath, splitName, model, result, report, mistakes).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else
            Console.Out.Write(FormatText(modelPath, splitName, model, result, report, mistakes));

        if (plotPath is not null)
        {
            EvaluationPlot.Save(plotPath, report, model.ClassNames, raw, mistakes,
                $"{Path.GetFileName(modelPath)} on {splitName}: accuracy {result.Accuracy.ToString("F4", CultureInfo.InvariantCulture)}");
            if (!json) Console.Out.WriteLine($"plot written to {plotPath}");
        }
        return 0;
    }

    /// <summary>
    /// Takes the required --model option. When it is absent, <see cref="CommandLine.RejectRemaining"/>
    /// reports it with the name of the command it is given, so use the path only after that call.
    /// </summary>
    /// <param name="command">Unused, because <see cref="CommandLine.RejectRemaining"/> names the command.</param>
    public static string RequireModel(CommandLine line, string command) =>
        line.TakeRequiredPath("model", "FILE.safetensors");

    /// <summary>Throws a usage error when the data's samples or classes do not fit the model.</summary>
    public static void CheckCompatible(LoadedModel model, Dataset data, string modelPath)
    {
        if (data.SampleShape != model.Network.InputShape)
            throw new UsageException($"{modelPath}: the model takes inputs of shape {model.Network.InputShape}, the data has {data.SampleShape}");
        if (data.ClassCount != model.Network.ClassCount)
            throw new UsageException($"{modelPath}: the model scores {model.Network.ClassCount} classes, the data has {data.ClassCount}");
    }

    private static string FormatText(string modelPath, string splitName, LoadedModel model, EvaluationResult result,
        ClassificationReport report, IReadOnlyList<Mistake> mistakes)
    {
        var names = model.ClassNames;
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.AppendLine($"model {modelPath}: {model.Network.Architecture.LayersText} (loss {model.Loss.Name}, input {model.Preprocessing})");
        text.AppendLine(string.Create(invariant,
            $"split {splitName}: accuracy {result.Accuracy:F4}  loss {result.Loss:F4}  ({result.Correct}/{result.Count} correct)"));
        text.AppendLine();

        text.AppendLine("class  precision  recall      f1  support");
        foreach (var m in report.PerClass)
            text.AppendLine(string.Create(invariant, $"{names[m.Class],5}  {Rate(m.Precision),9}  {Rate(m.Recall),6}  {Rate(m.F1),6}  {m.Support,7}"));
        text.AppendLine();

        int width = Math.Max(5, names.Max(n => n.Length) + 1);
        text.AppendLine("confusion matrix (rows: true class, columns: predicted class)");
        text.Append(new string(' ', width));
        foreach (string name in names) text.Append(name.PadLeft(width));
        text.AppendLine();
        for (int row = 0; row < names.Count; row++)
        {
            text.Append(names[row].PadLeft(width));
            for (int column = 0; column < names.Count; column++) text.Append(report.Confusion[row, column].ToString(invariant).PadLeft(width));
            text.AppendLine();
        }
        text.AppendLine();

        if (mistakes.Count == 0)
        {
            text.AppendLine(report.Mistakes.Count == 0 ? "no mistakes" : "");
            return text.ToString();
        }
        text.AppendLine($"most confident mistakes ({mistakes.Count} of {report.Mistakes.Count}):");
        text.AppendLine(" sample  true  predicted  confidence  p(true)");
        foreach (var m in mistakes)
            text.AppendLine(string.Create(invariant, $"{m.Index,7}  {names[m.TrueClass],4}  {names[m.PredictedClass],9}  {m.Confidence,10:F4}  {m.TrueClassProbability,7:F4}"));
        return text.ToString();
    }

    private static string Rate(double value) => double.IsNaN(value) ? "n/a" : value.ToString("F4", CultureInfo.InvariantCulture);

    private static JsonObject ToJson(string modelPath, string splitName, LoadedModel model, EvaluationResult result,
        ClassificationReport report, IReadOnlyList<Mistake> mistakes)
    {
        var names = model.ClassNames;
        var confusion = new JsonArray();
        for (int row = 0; row < names.Count; row++)
        {
            var counts = new JsonArray();
            for (int column = 0; column < names.Count; column++) counts.Add(report.Confusion[row, column]);
            confusion.Add(counts);
        }

        var perClass = new JsonArray();
        foreach (var m in report.PerClass)
        {
            perClass.Add(new JsonObject
            {
                ["class"] = names[m.Class],
                ["precision"] = NullIfNaN(m.Precision),
                ["recall"] = NullIfNaN(m.Recall),
                ["f1"] = NullIfNaN(m.F1),
                ["support"] = m.Support,
            });
        }

        var mistakeArray = new JsonArray();
        foreach (var m in mistakes)
        {
            mistakeArray.Add(new JsonObject
            {
                ["index"] = m.Index,
                ["true"] = names[m.TrueClass],
                ["predicted"] = names[m.PredictedClass],
                ["confidence"] = m.Confidence,
                ["true_probability"] = m.TrueClassProbability,
            });
        }

        return new JsonObject
        {
            ["model"] = modelPath,
            ["architecture"] = model.Network.Architecture.LayersText,
            ["split"] = splitName,
            ["count"] = result.Count,
            ["correct"] = result.Correct,
            ["accuracy"] = result.Accuracy,
            ["loss"] = result.Loss,
            ["labels"] = new JsonArray(names.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["confusion"] = confusion,
            ["per_class"] = perClass,
            ["mistakes"] = mistakeArray,
        };
    }

    private static JsonNode? NullIfNaN(double value) => double.IsNaN(value) ? null : JsonValue.Create(value);

    private static string Help() => """
        usage: digitnet evaluate --model FILE.safetensors [--data digits.mat] [options]

        Loads a model file and evaluates it on one split of digits.mat: accuracy, loss, precision,
        recall and F1 per class, the confusion matrix (rows: true digit) and the mistakes the
        model made with the highest confidence.

          --model FILE            model file written by 'digitnet train --out' or 'digitnet finetune --out'
          --data PATH             path of digits.mat (default: $DIGITNET_DATA, then ./data/digits.mat)
          --split NAME            train, valid or test (default test)
          --mistakes N            number of most confident mistakes to list and plot (default 10)
          --json                  print the report as JSON: accuracy, loss, confusion, per_class, mistakes
          --plot FILE.png         draw the confusion matrix and the listed mistakes into a PNG file

        """;
}
