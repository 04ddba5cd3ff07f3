using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DigitNet.Training;

/// <summary>The JSON type a setting takes in configuration files.</summary>
public enum OptionValueKind { Number, Integer, Text, Boolean, IntegerList, NumberList }

/// <summary>
/// One setting of <see cref="TrainingOptions"/>: its name (the long command-line option without
/// dashes, and the JSON key), help text, and how to read and write it.
/// </summary>
public sealed record TrainingOption(
    string Name,
    OptionValueKind Kind,
    string Help,
    Func<TrainingOptions, string, TrainingOptions> Parse,
    Func<TrainingOptions, JsonNode?> Format)
{
    /// <summary>
    /// The word that stands for the value in help text, such as RATE in <c>--lr RATE</c>. When it
    /// is null, the help picks a word from <see cref="Kind"/>.
    /// </summary>
    public string? Placeholder { get; init; }
}

/// <summary>Thrown for an invalid setting; the message names the setting and the value.</summary>
public sealed class OptionException(string message) : Exception(message);

/// <summary>
/// The table of every training setting. The CLI reads <c>--name value</c> through it, configuration
/// files read <c>"name": value</c> through it, and results write settings back through it, so a
/// setting is defined in exactly one place.
/// </summary>
public static class TrainingOptionTable
{
    /// <summary>
    /// Largest worker thread count accepted by --threads and sweep's --threads-per-trial. Counts far
    /// above the number of processors only add overhead, and a huge one exhausts memory as the workers start.
    /// </summary>
    public const int MaxThreads = 1024;

    private static readonly string[] Scalings = ["none", "scale255", "classic", "standardize"];
    private static readonly string[] Activations = ["sigmoid", "tanh", "relu"];
    private static readonly string[] LossNames = ["mse", "cross-entropy"];
    private static readonly string[] Inits = ["normal", "xavier", "he"];
    private static readonly string[] Optimizers = ["sgd", "adam", "adamw"];
    private static readonly string[] MomentumKinds = ["classic", "nesterov", "average"];
    private static readonly string[] Schedules = ["constant", "step", "cosine"];
    private static readonly string[] StopMetrics = ["accuracy", "loss"];
    private static readonly string[] Augmentations = ["none", "affine", "elastic", "affine+elastic"];

    /// <summary>Every setting, in help order.</summary>
    public static IReadOnlyList<TrainingOption> All { get; } =
    [
        Text("data", "path of digits.mat (default: $DIGITNET_DATA, then ./data/digits.mat)", (o, v) => o with { Data = v }, o => o.Data) with { Placeholder = "PATH" },
        Choice("scaling", Scalings, "input scaling: none, scale255 (x/255), classic (0.01..1.0) or standardize (per pixel, fitted on training data)", (o, v) => o with { Scaling = v }, o => o.Scaling),
        IntList("hidden", "hidden layer sizes of the perceptron, comma-separated (e.g. 180,100); an empty value gives no hidden layer", (o, v) => o with { Hidden = v }, o => o.Hidden) with { Placeholder = "SIZES" },
        Choice("activation", Activations, "hidden activation: sigmoid, tanh or relu", (o, v) => o with { Activation = v }, o => o.Activation),
        Choice("loss", LossNames, "mse (sigmoid outputs, squared error) or cross-entropy (softmax outputs)", (o, v) => o with { Loss = v }, o => o.Loss),
        Text("layers", "explicit layer list, e.g. \"conv 16 5x5 pad=2, relu, maxpool 2, dense 10\" with --loss cross-entropy; with --loss mse it must end in sigmoid; it describes the whole network, so --hidden, --activation, --dropout and --bias cannot be given with it", (o, v) => o with { Layers = v }, o => o.Layers) with { Placeholder = "LIST" },
        Bool("bias", "give every dense layer a bias: true or false", (o, v) => o with { Bias = v }, o => o.Bias),
        Number("dropout", "drop probability after each hidden layer, in [0, 1)", 0, 1, false, (o, v) => o with { Dropout = v }, o => o.Dropout) with { Placeholder = "P" },
        Choice("init", Inits, "weight initialisation: normal (std fan_in^-0.5), xavier or he", (o, v) => o with { Init = v }, o => o.Init),
        Choice("optimizer", Optimizers, "sgd, adam or adamw", (o, v) => o with { Optimizer = v }, o => o.Optimizer),
        Number("lr", "learning rate, greater than 0", 0, double.PositiveInfinity, true, (o, v) => o with { LearningRate = v }, o => o.LearningRate, exclusiveMinimum: true) with { Placeholder = "RATE" },
        Number("momentum", "SGD momentum coefficient in [0, 1); 0 disables momentum", 0, 1, false, (o, v) => o with { Momentum = v }, o => o.Momentum) with { Placeholder = "M" },
        Choice("momentum-kind", MomentumKinds, "classic (v = m v + g), nesterov, or average (v = m v + (1 - m) g)", (o, v) => o with { MomentumKind = v }, o => o.MomentumKind),
        Number("weight-decay", "L2 weight decay coefficient, 0 or more", 0, double.PositiveInfinity, true, (o, v) => o with { WeightDecay = v }, o => o.WeightDecay) with { Placeholder = "LAMBDA" },
        Choice("schedule", Schedules, "learning-rate schedule: constant, step or cosine", (o, v) => o with { Schedule = v }, o => o.Schedule),
        Integer("step-every", "epochs between decays of the step schedule", 1, (o, v) => o with { StepEvery = v }, o => o.StepEvery) with { Placeholder = "EPOCHS" },
        Number("step-factor", "factor applied at each step decay, in (0, 1]", 0, 1, true, (o, v) => o with { StepFactor = v }, o => o.StepFactor, exclusiveMinimum: true) with { Placeholder = "FACTOR" },
        Number("warmup", "epochs of linear learning-rate warm-up, 0 or more", 0, double.PositiveInfinity, true, (o, v) => o with { Warmup = v }, o => o.Warmup) with { Placeholder = "EPOCHS" },
        Integer("epochs", "maximum number of epochs", 1, (o, v) => o with { Epochs = v }, o => o.Epochs),
        Integer("batch-size", "samples per update; 1 is per-sample SGD", 1, (o, v) => o with { BatchSize = v }, o => o.BatchSize),
        Integer("patience", "stop after this many epochs without validation improvement and restore the best weights; 0 disables", 0, (o, v) => o with { Patience = v }, o => o.Patience) with { Placeholder = "EPOCHS" },
        Choice("stop-on", StopMetrics, "validation metric that selects the best epoch: accuracy or loss", (o, v) => o with { StopOn = v }, o => o.StopOn) with { Placeholder = "METRIC" },
        Integer("seed", "seed of every random generator", 0, (o, v) => o with { Seed = (ulong)v }, o => (long)o.Seed),
        Integer("threads", $"worker threads, 0 to {MaxThreads}; 0 uses one per processor", 0, (o, v) => o with { Threads = v }, o => o.Threads, maximum: MaxThreads),
        Choice("augment", Augmentations, "on-the-fly augmentation: none, affine (rotation, shift, scale), elastic or affine+elastic", (o, v) => o with { Augment = v }, o => o.Augment),
        Number("rotate", "maximum rotation of the affine augmentation, degrees", 0, 180, true, (o, v) => o with { Rotate = v }, o => o.Rotate) with { Placeholder = "DEGREES" },
        Number("translate", "maximum shift of the affine augmentation, pixels", 0, 8, true, (o, v) => o with { Translate = v }, o => o.Translate) with { Placeholder = "PIXELS" },
        Number("scale", "maximum relative scale change of the affine augmentation, in [0, 0.5]", 0, 0.5, true, (o, v) => o with { Scale = v }, o => o.Scale) with { Placeholder = "FRACTION" },
        NumberList("rotated-copies", "add training copies rotated by these angles in degrees, comma-separated (e.g. 45,90,180)", (o, v) => o with { RotatedCopies = v }, o => o.RotatedCopies) with { Placeholder = "ANGLES" },
    ];

    private static readonly Dictionary<string, TrainingOption> ByName = All.ToDictionary(o => o.Name, StringComparer.Ordinal);

    /// <summary>Finds a setting by name, or returns null.</summary>
    public static TrainingOption? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Applies <c>name = text</c> to <paramref name="options"/>; throws <see cref="OptionException"/> on an unknown name or bad value.</summary>
    public static TrainingOptions Apply(TrainingOptions options, string name, string text)
    {
        var option = Find(name) ?? throw new OptionException($"unknown setting '{name}'");
        return option.Parse(options, text);
    }

    /// <summary>
    /// Applies every key of a JSON object. <paramref name="ignore"/> lists keys that belong to the
    /// caller (such as <c>out</c> or <c>grid</c>); any other unknown key is an error naming it.
    /// </summary>
    public static TrainingOptions ApplyJson(TrainingOptions options, JsonElement settings, string source, IReadOnlySet<string>? ignore = null)
    {
        if (settings.ValueKind != JsonValueKind.Object)
            throw new OptionException($"{source}: expected a JSON object of settings, got {settings.ValueKind.ToString().ToLowerInvariant()}");
        foreach (var property in settings.EnumerateObject())
        {
            if (ignore is not null && ignore.Contains(property.Name)) continue;
            var option = Find(property.Name)
                ?? throw new OptionException($"{source}: unknown key '{property.Name}'; valid keys: {string.Join(", ", All.Select(o => o.Name))}");
            string text = JsonToText(option, property.Value, source);
            try
            {
                options = option.Parse(options, text);
            }
            catch (OptionException e)
            {
                // The parser names the command-line option, but in a file the user needs the key.
                string optionPrefix = $"--{option.Name}: ";
                string reason = e.Message.StartsWith(optionPrefix, StringComparison.Ordinal) ? e.Message[optionPrefix.Length..] : e.Message;
                throw new OptionException($"{source}: key '{option.Name}': {reason}");
            }
        }
        return options;
    }

    /// <summary>Converts a JSON value to the text form of <paramref name="option"/>, checking its JSON type.</summary>
    public static string JsonToText(TrainingOption option, JsonElement value, string source)
    {
        string Fail(string expected) =>
            throw new OptionException($"{source}: key '{option.Name}' must be {expected}, got {value.GetRawText()}");

        switch (option.Kind)
        {
            case OptionValueKind.Number:
            case OptionValueKind.Integer:
                return value.ValueKind == JsonValueKind.Number ? value.GetRawText() : Fail(option.Kind == OptionValueKind.Integer ? "an integer" : "a number");
            case OptionValueKind.Boolean:
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetRawText() : Fail("true or false");
            case OptionValueKind.Text:
                return value.ValueKind == JsonValueKind.String ? value.GetString()! : Fail("a string");
            case OptionValueKind.IntegerList:
            case OptionValueKind.NumberList:
                if (value.ValueKind == JsonValueKind.Number) return value.GetRawText();
                if (value.ValueKind != JsonValueKind.Array) Fail("an array of numbers");
                var items = value.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.Number ? item.GetRawText() : Fail("an array of numbers"));
                return string.Join(",", items);
            default:
                throw new InvalidOperationException($"unhandled option kind {option.Kind}");
        }
    }

    /// <summary>Every setting as a JSON object (for results and model metadata).</summary>
    public static JsonObject ToJson(TrainingOptions options)
    {
        var json = new JsonObject();
        foreach (var option in All) json[option.Name] = option.Format(options);
        return json;
    }

    private static TrainingOption Text(string name, string help, Func<TrainingOptions, string, TrainingOptions> set, Func<TrainingOptions, string?> get) =>
        new(name, OptionValueKind.Text, help,
            (o, text) => text.Length == 0 ? throw new OptionException($"--{name}: value must not be empty") : set(o, text),
            o => get(o) is { } value ? JsonValue.Create(value) : null);

    private static TrainingOption Choice(string name, string[] choices, string help, Func<TrainingOptions, string, TrainingOptions> set, Func<TrainingOptions, string> get) =>
        new TrainingOption(name, OptionValueKind.Text, help,
            (o, text) => Array.IndexOf(choices, text) >= 0
                ? set(o, text)
                : throw new OptionException($"--{name}: invalid value '{text}'; expected one of {string.Join(", ", choices)}"),
            o => JsonValue.Create(get(o))) with { Placeholder = "NAME" };

    private static TrainingOption Bool(string name, string help, Func<TrainingOptions, bool, TrainingOptions> set, Func<TrainingOptions, bool> get) =>
        new(name, OptionValueKind.Boolean, help,
            (o, text) => text switch
            {
                "true" => set(o, true),
                "false" => set(o, false),
                _ => throw new OptionException($"--{name}: invalid value '{text}'; expected true or false"),
            },
            o => JsonValue.Create(get(o)));

    private static TrainingOption Integer(string name, string help, int minimum, Func<TrainingOptions, int, TrainingOptions> set, Func<TrainingOptions, long> get,
        int maximum = int.MaxValue) =>
        new(name, OptionValueKind.Integer, help,
            (o, text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= minimum && value <= maximum
                ? set(o, value)
                : throw new OptionException($"--{name}: invalid value '{text}'; expected an integer from {minimum} to {maximum}"),
            o => JsonValue.Create(get(o)));

    private static TrainingOption Number(string name, string help, double minimum, double maximum, bool maximumInclusive,
        Func<TrainingOptions, double, TrainingOptions> set, Func<TrainingOptions, double> get, bool exclusiveMinimum = false) =>
        new(name, OptionValueKind.Number, help,
            (o, text) =>
            {
                bool parsed = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value);
                bool aboveMinimum = exclusiveMinimum ? value > minimum : value >= minimum;
                bool belowMaximum = maximumInclusive ? value <= maximum : value < maximum;
                if (parsed && aboveMinimum && belowMaximum) return set(o, value);
                string range = $"{(exclusiveMinimum ? "(" : "[")}{minimum.ToString(CultureInfo.InvariantCulture)}, {(double.IsPositiveInfinity(maximum) ? "inf)" : maximum.ToString(CultureInfo.InvariantCulture) + (maximumInclusive ? "]" : ")"))}";
                throw new OptionException($"--{name}: invalid value '{text}'; expected a number in {range}");
            },
            o => JsonValue.Create(get(o)));

    private static TrainingOption IntList(string name, string help, Func<TrainingOptions, IReadOnlyList<int>, TrainingOptions> set, Func<TrainingOptions, IReadOnlyList<int>> get) =>
        new(name, OptionValueKind.IntegerList, help,
            (o, text) =>
            {
                var parts = text.Split(',', StringSplitOptions.TrimEntries);
                var values = new List<int>();
                foreach (string part in parts)
                {
                    if (part.Length == 0 && parts.Length == 1) break;
                    if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 1)
                        throw new OptionException($"--{name}: invalid value '{text}'; expected positive integers separated by commas");
                    values.Add(value);
                }
                return set(o, values);
            },
            o => new JsonArray(get(o).Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()));

    private static TrainingOption NumberList(string name, string help, Func<TrainingOptions, IReadOnlyList<double>, TrainingOptions> set, Func<TrainingOptions, IReadOnlyList<double>> get) =>
        new(name, OptionValueKind.NumberList, help,
            (o, text) =>
            {
                var values = new List<double>();
                foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                        throw new OptionException($"--{name}: invalid value '{text}'; expected numbers separated by commas");
                    values.Add(value);
                }
                return set(o, values);
            },
            o => new JsonArray(get(o).Select(v => (JsonNode?)JsonValue.Create(v)).ToArray()));
}
