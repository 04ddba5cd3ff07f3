using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DigitNet.Cli.Imaging;
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
        line.RejectRemaining("predict", []);
        if (line.Positionals.Count == 0)
            throw new UsageException("no image given; usage: digitnet predict --model FILE.safetensors IMAGE...");

        var model = ModelFile.Load(modelPath);
        var inputShape = model.Network.InputShape;
        if (inputShape.Rank != 3 || inputShape[0] != 1 || inputShape[1] != inputShape[2])
        {
            throw new UsageException(
                $"{modelPath}: predict needs a model whose input is one square grayscale image [1, S, S]; this model takes {inputShape}");
        }
        int size = inputShape[1];

        // Every file is decoded before anything is printed, so a bad file fails the command cleanly.
        var images = line.Positionals.Select(path => (Path: path, Pixels: DigitImage.LoadFramed(path, size))).ToList();

        int classes = model.Network.ClassCount;
        var batch = new float[images.Count * size * size];
        for (int i = 0; i < images.Count; i++)
        {
            var sample = batch.AsSpan(i * size * size, size * size);
            images[i].Pixels.CopyTo(sample);
            model.Preprocessing.Apply(sample);
        }
        var output = model.Network.Forward(new Tensor(inputShape.WithBatch(images.Count), batch), training: false);

        var results = new List<(string Path, int Predicted, float[] Probabilities)>();
        for (int i = 0; i < images.Count; i++)
        {
            var probabilities = new float[classes];
            model.Loss.ToProbabilities(output.Sample(i), probabilities);
            results.Add((images[i].Path, Evaluator.ArgMax(output.Sample(i)), probabilities));
        }

        if (json)
        {
            Console.Out.WriteLine(ToJson(model, results, show ? images.Select(i => i.Pixels).ToList() : null, size)
                .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        for (int i = 0; i < results.Count; i++)
        {
            Console.Out.Write(FormatText(model.ClassNames, results[i]));
            if (show) Console.Out.Write(Render(images[i].Pixels, size));
        }
        return 0;
    }

    private static string FormatText(IReadOnlyList<string> names, (string Path, int Predicted, float[] Probabilities) result)
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

    private static JsonObject ToJson(LoadedModel model, List<(string Path, int Predicted, float[] Probabilities)> results,
        List<float[]>? inputs, int size)
    {
        var array = new JsonArray();
        for (int i = 0; i < results.Count; i++)
        {
            var (path, predicted, probabilities) = results[i];
            var item = new JsonObject
            {
                ["file"] = path,
                ["predicted"] = model.ClassNames[predicted],
                ["index"] = predicted,
                ["confidence"] = probabilities[predicted],
                ["probabilities"] = new JsonArray(probabilities.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
            };
            if (inputs is not null)
                item["input"] = new JsonArray(inputs[i].Select(p => (JsonNode?)JsonValue.Create(p)).ToArray());
            array.Add(item);
        }
        return new JsonObject
        {
            ["model"] = model.Network.Architecture.LayersText,
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

          --model FILE            model file written by 'digitnet train --out' or 'digitnet finetune --out'
          --json                  print the results as JSON: per file the prediction and the probabilities
          --show                  also print the framed input the network saw (as text, or as "input" in JSON)

        """;
}
