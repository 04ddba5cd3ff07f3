using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DigitNet.Data.Formats;
using DigitNet.Training;

namespace DigitNet.Experiments;

/// <summary>
/// Reads and validates sweep configuration files. Every error is an <see cref="OptionException"/>
/// whose message starts with the file and names the offending key, so a bad file fails before any
/// trial runs.
/// </summary>
/// <remarks>
/// A sweep file is a JSON object with the keys <c>name</c>, <c>title</c>, <c>description</c>,
/// <c>base</c> (training settings shared by every trial), <c>grid</c> (setting name to a list of
/// values; every combination is one row) or <c>list</c> (one object of settings per row),
/// <c>seeds</c>, <c>finetune</c> and <c>report</c>. A suite file has <c>name</c>, <c>title</c>
/// and <c>sweeps</c>, a list of sweep files relative to the suite file.
/// </remarks>
public static partial class SweepConfigReader
{
    private static readonly HashSet<string> SweepKeys = ["name", "title", "description", "base", "grid", "list", "seeds", "finetune", "report"];
    private static readonly HashSet<string> SuiteKeys = ["name", "title", "description", "sweeps"];
    private static readonly HashSet<string> ListEntryKeys = ["label", "reference", "finetune"];
    private static readonly HashSet<string> ReportKeys = ["x_label", "metric", "categorical", "reference", "reference_label"];

    /// <summary>Settings a sweep sets itself, so a configuration must not: the seed comes from <c>seeds</c>, the rest from the command line.</summary>
    private static readonly Dictionary<string, string> ReservedSettings = new()
    {
        ["seed"] = "list the seeds under \"seeds\" instead",
        ["threads"] = "the command sets it from --threads-per-trial",
        ["data"] = "pass --data to the command; the data path is not part of a trial's identity",
    };

    /// <summary>Training settings the fine-tuning stage may change; the rest would change the network or its input.</summary>
    private static readonly HashSet<string> FineTuneSettings =
    [
        "optimizer", "lr", "momentum", "momentum-kind", "weight-decay", "schedule", "step-every", "step-factor",
        "warmup", "epochs", "batch-size", "patience", "stop-on", "augment", "rotate", "translate", "scale",
    ];

    /// <summary>Metrics a report can plot against the swept setting.</summary>
    public static IReadOnlyList<string> Metrics { get; } = ["test_accuracy", "test_loss"];

    /// <summary>
    /// Reads <paramref name="path"/>: a suite file gives its sweeps in order, a sweep file gives a
    /// suite of one sweep named after it.
    /// </summary>
    /// <exception cref="OptionException">The file is missing, is not valid JSON, or breaks a rule; the message names the key.</exception>
    public static SweepSuite ReadFile(string path)
    {
        var root = ParseFile(path);
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("sweeps", out _))
            return ReadSuite(root, path);
        var sweep = ReadSweep(root, path);
        return new SweepSuite(sweep.Name, sweep.Title, [sweep]) { Files = [path] };
    }

    /// <summary>Reads one sweep from its JSON object; <paramref name="source"/> prefixes every error message.</summary>
    public static SweepConfig ReadSweep(JsonElement root, string source)
    {
        RequireObject(root, source, "the configuration");
        RejectUnknownKeys(root, SweepKeys, source, "", "valid keys: " + string.Join(", ", SweepKeys) + " (training settings go under \"base\")");

        string name = ReadName(root, source);
        string title = OptionalString(root, "title", source) ?? name;
        string description = OptionalString(root, "description", source) ?? "";
        var baseOptions = ReadSettings(root, "base", new TrainingOptions(), source, ignore: null);
        var seeds = ReadSeeds(root, source);
        var finetune = root.TryGetProperty("finetune", out var finetuneJson) ? finetuneJson : (JsonElement?)null;

        bool hasGrid = root.TryGetProperty("grid", out var grid);
        bool hasList = root.TryGetProperty("list", out var list);
        if (hasGrid && hasList)
            throw new OptionException($"{source}: give either \"grid\" or \"list\", not both");

        var reportJson = root.TryGetProperty("report", out var report) ? report : (JsonElement?)null;
        if (reportJson is { } r) RequireObject(r, source, "key 'report'");
        if (reportJson is { } rj) RejectUnknownKeys(rj, ReportKeys, source, "report.", "valid keys: " + string.Join(", ", ReportKeys));

        List<SweepPoint> points;
        string defaultXLabel;
        if (hasGrid)
        {
            (points, defaultXLabel) = ExpandGrid(grid, baseOptions, finetune, source);
        }
        else if (hasList)
        {
            points = ReadList(list, baseOptions, finetune, source);
            defaultXLabel = "setting";
        }
        else
        {
            points = [new SweepPoint("base", baseOptions, null, null, ReadFineTune(finetune, baseOptions, source, "finetune"))];
            defaultXLabel = "setting";
        }

        var spec = ReadReport(reportJson, defaultXLabel, points, source, out var references);
        if (references.Count > 0)
            points = points.Select(p => references.TryGetValue(p.Label, out double value) ? p with { Reference = value } : p).ToList();
        return new SweepConfig(name, title, description, points, seeds, spec);
    }

    private static SweepSuite ReadSuite(JsonElement root, string path)
    {
        RejectUnknownKeys(root, SuiteKeys, path, "", "valid keys of a suite: " + string.Join(", ", SuiteKeys));
        string name = ReadName(root, path);
        string title = OptionalString(root, "title", path) ?? name;

        var sweepsJson = root.GetProperty("sweeps");
        if (sweepsJson.ValueKind != JsonValueKind.Array || sweepsJson.GetArrayLength() == 0)
            throw new OptionException($"{path}: key 'sweeps' must be a non-empty array of sweep file paths, got {Describe(sweepsJson)}");

        string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var sweeps = new List<SweepConfig>();
        var files = new List<string> { path };
        var names = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (var item in sweepsJson.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                throw new OptionException($"{path}: sweeps[{index}] must be a file path, got {Describe(item)}");
            string relative = item.GetString()!;
            string full = Path.Combine(folder, relative);
            var sweepRoot = ParseFile(full, $"{path}: sweeps[{index}]");
            if (sweepRoot.ValueKind == JsonValueKind.Object && sweepRoot.TryGetProperty("sweeps", out _))
                throw new OptionException($"{full}: a suite cannot include another suite (sweeps[{index}] of {path})");
            var sweep = ReadSweep(sweepRoot, full);
            if (!names.Add(sweep.Name))
                throw new OptionException($"{path}: two sweeps are named '{sweep.Name}'; sweep names must be unique within a suite");
            sweeps.Add(sweep);
            files.Add(full);
            index++;
        }
        return new SweepSuite(name, title, sweeps) { Files = files };
    }

    private static (List<SweepPoint> Points, string XLabel) ExpandGrid(JsonElement grid, TrainingOptions baseOptions, JsonElement? finetune, string source)
    {
        RequireObject(grid, source, "key 'grid'");
        var axes = new List<(TrainingOption Option, List<string> Texts)>();
        foreach (var property in grid.EnumerateObject())
        {
            var option = FindSetting(property.Name, source, "grid.");
            if (property.Value.ValueKind != JsonValueKind.Array)
                throw new OptionException($"{source}: grid key '{property.Name}' must be an array of values, got {Describe(property.Value)}");
            if (property.Value.GetArrayLength() == 0)
                throw new OptionException($"{source}: grid key '{property.Name}' has an empty list of values; give at least one");

            var texts = new List<string>();
            int i = 0;
            foreach (var value in property.Value.EnumerateArray())
            {
                string where = $"grid key '{property.Name}' value {i}";
                string text = ToText(option, value, source, where);
                ApplyChecked(option, baseOptions, text, source, where);
                if (texts.Contains(text))
                    throw new OptionException($"{source}: {where} ({text}) repeats an earlier value");
                texts.Add(text);
                i++;
            }
            axes.Add((option, texts));
        }
        if (axes.Count == 0)
            throw new OptionException($"{source}: key 'grid' is empty; give at least one setting with a list of values");

        // Cartesian product with the first key varying slowest, so rows follow the file's order.
        var points = new List<SweepPoint>();
        var combination = new int[axes.Count];
        while (true)
        {
            var options = baseOptions;
            var parts = new List<string>();
            for (int a = 0; a < axes.Count; a++)
            {
                var (option, texts) = axes[a];
                string text = texts[combination[a]];
                options = ApplyChecked(option, options, text, source, $"grid key '{option.Name}'");
                parts.Add(axes.Count == 1 ? text : $"{option.Name}={text}");
            }
            double? x = axes.Count == 1 ? NumericValue(axes[0].Option, axes[0].Texts[combination[0]]) : null;
            var fine = ReadFineTune(finetune, options, source, "finetune");
            points.Add(new SweepPoint(string.Join(" ", parts), options, x, null, fine));

            int digit = axes.Count - 1;
            while (digit >= 0 && ++combination[digit] == axes[digit].Texts.Count)
            {
                combination[digit] = 0;
                digit--;
            }
            if (digit < 0) break;
        }
        return (points, string.Join(", ", axes.Select(a => a.Option.Name)));
    }

    private static List<SweepPoint> ReadList(JsonElement list, TrainingOptions baseOptions, JsonElement? finetune, string source)
    {
        if (list.ValueKind != JsonValueKind.Array)
            throw new OptionException($"{source}: key 'list' must be an array of objects of settings, got {Describe(list)}");
        if (list.GetArrayLength() == 0)
            throw new OptionException($"{source}: key 'list' is empty; give at least one object of settings");

        var points = new List<SweepPoint>();
        int index = 0;
        foreach (var entry in list.EnumerateArray())
        {
            string where = $"list[{index}]";
            RequireObject(entry, source, where);
            foreach (var property in entry.EnumerateObject())
            {
                if (!ListEntryKeys.Contains(property.Name)) FindSetting(property.Name, source, where + ".");
            }

            TrainingOptions options;
            try
            {
                options = TrainingOptionTable.ApplyJson(baseOptions, entry, $"{source}: {where}", ListEntryKeys);
            }
            catch (OptionException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
            {
                throw new OptionException($"{source}: {where}: {e.Message}");
            }

            string label = OptionalString(entry, "label", source, where + ".")
                ?? DefaultLabel(entry);
            if (points.Any(p => p.Label == label))
                throw new OptionException($"{source}: {where} has the label '{label}' of an earlier entry; give each entry a distinct \"label\"");

            double? reference = null;
            if (entry.TryGetProperty("reference", out var referenceJson))
            {
                if (referenceJson.ValueKind != JsonValueKind.Number)
                    throw new OptionException($"{source}: {where}.reference must be a number, got {Describe(referenceJson)}");
                reference = referenceJson.GetDouble();
            }

            var fine = entry.TryGetProperty("finetune", out var entryFinetune)
                ? ReadFineTune(entryFinetune, options, source, where + ".finetune")
                : ReadFineTune(finetune, options, source, "finetune");
            points.Add(new SweepPoint(label, options, null, reference, fine));
            index++;
        }
        return points;
    }

    private static string DefaultLabel(JsonElement entry)
    {
        var parts = entry.EnumerateObject()
            .Where(p => !ListEntryKeys.Contains(p.Name))
            .Select(p => $"{p.Name}={(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}")
            .ToList();
        return parts.Count == 0 ? "base" : string.Join(" ", parts);
    }

    /// <summary>Reads the fine-tuning settings; <c>false</c> or an absent key means no fine-tuning stage.</summary>
    private static TrainingOptions? ReadFineTune(JsonElement? json, TrainingOptions trained, string source, string where)
    {
        if (json is not { } value || value.ValueKind == JsonValueKind.False) return null;
        RequireObject(value, source, $"key '{where}'");
        foreach (var property in value.EnumerateObject())
        {
            FindSetting(property.Name, source, where + ".");
            if (!FineTuneSettings.Contains(property.Name))
                throw new OptionException($"{source}: {where} key '{property.Name}' would change the network or its input; the fine-tuning stage accepts only {string.Join(", ", FineTuneSettings)}");
        }
        try
        {
            return TrainingOptionTable.ApplyJson(trained, value, $"{source}: {where}");
        }
        catch (OptionException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new OptionException($"{source}: {where}: {e.Message}");
        }
    }

    private static SweepReportSpec ReadReport(JsonElement? report, string defaultXLabel, List<SweepPoint> points, string source, out Dictionary<string, double> references)
    {
        references = new Dictionary<string, double>(StringComparer.Ordinal);
        string xLabel = defaultXLabel;
        string metric = "test_accuracy";
        bool categorical = points.Any(p => p.XValue is null);
        string referenceLabel = "report";
        if (report is not { } json) return new SweepReportSpec(xLabel, metric, categorical, referenceLabel);

        xLabel = OptionalString(json, "x_label", source, "report.") ?? xLabel;
        referenceLabel = OptionalString(json, "reference_label", source, "report.") ?? referenceLabel;
        metric = OptionalString(json, "metric", source, "report.") ?? metric;
        if (!Metrics.Contains(metric))
            throw new OptionException($"{source}: report.metric must be one of {string.Join(", ", Metrics)}, got '{metric}'");
        if (json.TryGetProperty("categorical", out var categoricalJson))
        {
            if (categoricalJson.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new OptionException($"{source}: report.categorical must be true or false, got {Describe(categoricalJson)}");
            categorical = categoricalJson.GetBoolean() || categorical;
        }
        if (json.TryGetProperty("reference", out var referenceJson))
        {
            RequireObject(referenceJson, source, "key 'report.reference'");
            foreach (var property in referenceJson.EnumerateObject())
            {
                if (!points.Any(p => p.Label == property.Name))
                    throw new OptionException($"{source}: report.reference has no row labelled '{property.Name}'; row labels are {string.Join(", ", points.Select(p => $"'{p.Label}'"))}");
                if (property.Value.ValueKind != JsonValueKind.Number)
                    throw new OptionException($"{source}: report.reference '{property.Name}' must be a number, got {Describe(property.Value)}");
                references[property.Name] = property.Value.GetDouble();
            }
        }
        return new SweepReportSpec(xLabel, metric, categorical, referenceLabel);
    }

    private static IReadOnlyList<ulong> ReadSeeds(JsonElement root, string source)
    {
        if (!root.TryGetProperty("seeds", out var seeds)) return [1];
        if (seeds.ValueKind == JsonValueKind.Number)
        {
            if (!seeds.TryGetInt32(out int count) || count < 1 || count > 1000)
                throw new OptionException($"{source}: key 'seeds' must be a count from 1 to 1000 or an array of seeds, got {seeds.GetRawText()}");
            return Enumerable.Range(1, count).Select(i => (ulong)i).ToList();
        }
        if (seeds.ValueKind != JsonValueKind.Array)
            throw new OptionException($"{source}: key 'seeds' must be a count or an array of non-negative integers, got {Describe(seeds)}");
        if (seeds.GetArrayLength() == 0)
            throw new OptionException($"{source}: key 'seeds' is an empty array; give at least one seed");
        var list = new List<ulong>();
        foreach (var item in seeds.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetUInt64(out ulong seed))
                throw new OptionException($"{source}: key 'seeds' must contain non-negative integers, got {item.GetRawText()}");
            if (list.Contains(seed))
                throw new OptionException($"{source}: key 'seeds' lists seed {seed} twice");
            list.Add(seed);
        }
        return list;
    }

    private static TrainingOptions ReadSettings(JsonElement root, string key, TrainingOptions options, string source, IReadOnlySet<string>? ignore)
    {
        if (!root.TryGetProperty(key, out var settings)) return options;
        RequireObject(settings, source, $"key '{key}'");
        foreach (var property in settings.EnumerateObject()) FindSetting(property.Name, source, key + ".");
        try
        {
            return TrainingOptionTable.ApplyJson(options, settings, $"{source}: {key}", ignore);
        }
        catch (OptionException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new OptionException($"{source}: {key}: {e.Message}");
        }
    }

    /// <summary>Finds a training setting that a sweep may vary, or throws naming the key.</summary>
    private static TrainingOption FindSetting(string name, string source, string prefix)
    {
        if (ReservedSettings.TryGetValue(name, out string? reason))
            throw new OptionException($"{source}: key '{prefix}{name}' is not allowed in a sweep configuration; {reason}");
        return TrainingOptionTable.Find(name)
            ?? throw new OptionException($"{source}: unknown key '{prefix}{name}'; valid training settings: {string.Join(", ", TrainingOptionTable.All.Select(o => o.Name).Where(n => !ReservedSettings.ContainsKey(n)))}");
    }

    private static string ToText(TrainingOption option, JsonElement value, string source, string where)
    {
        try
        {
            return TrainingOptionTable.JsonToText(option, value, $"{source}: {where}");
        }
        catch (OptionException e) when (!e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new OptionException($"{source}: {where}: {e.Message}");
        }
    }

    private static TrainingOptions ApplyChecked(TrainingOption option, TrainingOptions options, string text, string source, string where)
    {
        try
        {
            return option.Parse(options, text);
        }
        catch (OptionException e)
        {
            throw new OptionException($"{source}: {where}: {e.Message}");
        }
    }

    private static double? NumericValue(TrainingOption option, string text)
    {
        bool single = option.Kind is OptionValueKind.Number or OptionValueKind.Integer
            || (option.Kind is OptionValueKind.IntegerList or OptionValueKind.NumberList && !text.Contains(','));
        return single && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : null;
    }

    private static string ReadName(JsonElement root, string source)
    {
        string name = OptionalString(root, "name", source)
            ?? throw new OptionException($"{source}: key 'name' is missing; give the sweep a name of letters, digits, '-' and '_' (it names the output files)");
        if (!NamePattern().IsMatch(name))
            throw new OptionException($"{source}: key 'name' must contain only letters, digits, '-' and '_' (it names the output files), got '{name}'");
        return name;
    }

    private static string? OptionalString(JsonElement root, string key, string source, string prefix = "")
    {
        if (!root.TryGetProperty(key, out var value)) return null;
        if (value.ValueKind != JsonValueKind.String)
            throw new OptionException($"{source}: key '{prefix}{key}' must be a string, got {Describe(value)}");
        return value.GetString()!;
    }

    private static void RequireObject(JsonElement value, string source, string subject)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new OptionException($"{source}: {subject} must be a JSON object, got {Describe(value)}");
    }

    private static void RejectUnknownKeys(JsonElement root, HashSet<string> valid, string source, string prefix, string hint)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (!valid.Contains(property.Name))
                throw new OptionException($"{source}: unknown key '{prefix}{property.Name}'; {hint}");
        }
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {value.GetRawText()}",
        _ => value.GetRawText(),
    };

    private static JsonElement ParseFile(string path, string? context = null)
    {
        string prefix = context is null ? "" : context + ": ";
        if (!File.Exists(path)) throw new OptionException($"{prefix}sweep configuration not found: {path}");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException)
        {
            throw new OptionException($"{prefix}{path}: permission denied; make the file readable");
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            // A file of another format, such as a PNG image, is named by its format in place of a position.
            var start = bytes.AsSpan(0, Math.Min(bytes.Length, FileSignature.Length));
            if (FileSignature.Detect(start, bytes.Length) is { } format && format != FileFormat.Text)
                throw new OptionException($"{prefix}{path}: this is {FileSignature.Describe(format)}, not a JSON file; check which file is the configuration");
            throw new OptionException($"{prefix}{path}: invalid JSON at line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}; check the syntax there");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex NamePattern();
}
