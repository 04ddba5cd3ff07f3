using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DigitNet.Cli.Imaging;
using DigitNet.Data;
using DigitNet.Serialization;
using DigitNet.Tensors;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>
/// <c>digitnet predict</c>: classifies image files (a photo or drawing of one digit each) with a
/// model file and prints the predicted class and the probability of every class.
/// </summary>
public static class PredictCommand
{
    private static readonly HashSet<string> Flags = ["help", "json", "show"];

    public static int Run(IReadOnlyList<string> args)
    {
        var line = CommandLine.Parse(args, Flags);
        if (line.TakeFlag("help"))
        {
            Console.Out.Write(Help());
            return 0;
        }
        bool json = line.TakeFlag("json");
        bool show = line.TakeFlag("show");
        string modelPath = EvaluateCommand.RequireModel(line, "predict");
        foreach (var (name, _) in line.Remaining())
        {
            if (name.Contains('.'))
                throw new UsageException($"unknown option --{name}; for an image whose name starts with --, put -- before it: digitnet predict --model FILE -- --{name}");
        }
        line.RejectRemaining("predict", []);
        if (line.Positionals.Count == 0)
            throw new UsageException("no image given; usage: digitnet predict --model FILE.safetensors IMAGE...");

        FileChecks.CheckModel(modelPath);
        var model = ModelFile.Load(modelPath);
        var inputShape = model.Network.InputShape;
        if (inputShape.Rank != 3 || inputShape[0] != 1 || inputShape[1] != inputShape[2])
        {
            throw new UsageException(
                $"{modelPath}: predict needs a model whose input is one square grayscale image [1, S, S]; this model takes {inputShape}");
        }
        int size = inputShape[1];

        // A file that cannot be read or framed gets an error of its own and the other files are
        // still classified, so one bad file does not lose the results of the good ones.
        var outcomes = line.Positionals.Select(path => LoadInput(path, size)).ToList();
        var framed = outcomes.Where(o => o.Error is null).ToList();
        if (framed.Count > 0)
            Classify(model, framed, size);

        foreach (var outcome in outcomes.Where(o => o.Error is not null))
            Diagnostics.Error("predict", outcome.Error!);
        if (json)
        {
            Console.Out.WriteLine(ToJson(modelPath, model, outcomes, show, size)
                .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            foreach (var outcome in framed)
            {
                Console.Out.Write(FormatText(model.ClassNames, outcome));
                if (show) Console.Out.Write(Render(outcome.Pixels!, size));
            }
        }
        return outcomes.Count == framed.Count ? 0 : Program.UsageExitCode;
    }

    /// <summary>Runs the framed images through the network as one batch and stores each prediction in its outcome.</summary>
    private static void Classify(LoadedModel model, List<Outcome> framed, int size)
    {
        var batch = new float[framed.Count * size * size];
        for (int i = 0; i < framed.Count; i++)
        {
            var sample = batch.AsSpan(i * size * size, size * size);
            framed[i].Pixels.CopyTo(sample);
            model.Preprocessing.Apply(sample);
        }
        var output = model.Network.Forward(new Tensor(model.Network.InputShape.WithBatch(framed.Count), batch), training: false);

        for (int i = 0; i < framed.Count; i++)
        {
            var probabilities = new float[model.Network.ClassCount];
            model.Loss.ToProbabilities(output.Sample(i), probabilities);
            framed[i].Predicted = Evaluator.ArgMax(output.Sample(i));
            framed[i].Probabilities = probabilities;
        }
    }

    /// <summary>One image file: its framed input and prediction, or the one-line error that stopped it.</summary>
    private sealed class Outcome(string path)
    {
        public string Path { get; } = path;
        public float[]? Pixels { get; init; }
        public string? Error { get; init; }
        public int Predicted { get; set; }
        public float[] Probabilities { get; set; } = [];
    }

    /// <summary>
    /// Decodes and frames one image file. Returns the error as a one-line message that starts with
    /// the file name in place of throwing, so the caller can go on with the other files.
    /// </summary>
    private static Outcome LoadInput(string path, int size)
    {
        try
        {
            return new Outcome(path) { Pixels = DigitImage.LoadFramed(path, size) };
        }
        catch (DataFormatException e)
        {
            return new Outcome(path) { Error = Program.OneLine(e.Message) };
        }
        catch (UnauthorizedAccessException)
        {
            return new Outcome(path) { Error = FileChecks.PermissionDenied("image", path) };
        }
        catch (IOException e)
        {
            return new Outcome(path) { Error = $"{path}: reading the file failed ({Program.OneLine(e.Message)})" };
        }
    }

    private static string FormatText(IReadOnlyList<string> names, Outcome result)
    {
        var text = new StringBuilder();
        text.Append(string.Create(CultureInfo.InvariantCulture,
            $"{result.Path}: {names[result.Predicted]} ({result.Probabilities[result.Predicted]:F4})  "));
        for (int k = 0; k < names.Count; k++)
            text.Append(string.Create(CultureInfo.InvariantCulture, $" {names[k]}:{result.Probabilities[k]:F4}"));
        return text.AppendLine().ToString();
    }

    /// <summary>Draws the framed input as text, darker characters for more ink, so users can see what the network saw.</summary>
    private static string Render(float[] pixels, int size)
    {
        const string Ramp = " .:-=+*#%@";
        var text = new StringBuilder();
        for (int r = 0; r < size; r++)
        {
            text.Append("    ");
            for (int c = 0; c < size; c++)
            {
                int level = (int)Math.Round(pixels[r * size + c] / 255f * (Ramp.Length - 1));
                text.Append(Ramp[Math.Clamp(level, 0, Ramp.Length - 1)], 2);
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>
    /// The JSON document: "model" is the model file path as given and "architecture" its layer
    /// list, as in evaluate --json. "predictions" has one entry per file, in the order given. A file
    /// that failed has only "file" and "error", the same message as on standard error.
    /// </summary>
    private static JsonObject ToJson(string modelPath, LoadedModel model, List<Outcome> outcomes, bool show, int size)
    {
        var array = new JsonArray();
        foreach (var outcome in outcomes)
        {
            if (outcome.Error is not null)
            {
                array.Add(new JsonObject { ["file"] = outcome.Path, ["error"] = outcome.Error });
                continue;
            }
            var item = new JsonObject
            {
                ["file"] = outcome.Path,
                ["predicted"] = model.ClassNames[outcome.Predicted],
                ["index"] = outcome.Predicted,
                ["confidence"] = outcome.Probabilities[outcome.Predicted],
                ["probabilities"] = new JsonArray(outcome.Probabilities.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
            };
            if (show)
                item["input"] = new JsonArray(outcome.Pixels!.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray());
            array.Add(item);
        }
        return new JsonObject
        {
            ["model"] = modelPath,
            ["architecture"] = model.Network.Architecture.LayersText,
            ["labels"] = new JsonArray(model.ClassNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["input_size"] = size,
            ["predictions"] = array,
        };
    }

    private static string Help() => """
        usage: digitnet predict --model FILE.safetensors [--json] [--show] IMAGE...

        Classifies each image (PNG, JPEG, BMP, GIF or WebP, any size, one digit per image) and
        prints the predicted digit, its probability and the probability of every class. Before the
        network sees it, each image is turned into input framed like the training data: converted
        to grayscale, inverted when the ink is dark on a light background, cropped to the ink's
        bounding box, scaled into the frame and centred (docs/predict.md has the details).
        An image of the model's input size (16x16) with light ink on a dark background is used as is.

        A file that cannot be read or shows no digit gets a one-line error on standard error, the
        other files are still classified, and the exit code is 2. Image names after -- are read
        as names even when they start with --.

          --model FILE            model file written by 'digitnet train --out' or 'digitnet finetune --out'
          --json                  print the results as JSON: per file the prediction and the probabilities,
                                  or "file" and "error" for a file that failed
          --show                  also print the framed input the network saw (as text, or as "input" in JSON)

        """;
}
