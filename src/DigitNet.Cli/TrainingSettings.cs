using System.Text.Json;
using DigitNet.Data.Formats;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>
/// Training settings of one command and where they came from: <see cref="ConfigPath"/> is the
/// --config file (null without one), and <see cref="ConfigKeys"/> lists the settings whose values
/// that file gave and the command line did not override.
/// </summary>
public sealed record CommandSettings(TrainingOptions Options, string? ConfigPath, IReadOnlySet<string> ConfigKeys)
{
    /// <summary>
    /// The values that the --config file gave for the command's own settings, such as gallery's
    /// "variants", which are not training settings. Read them with <see cref="TakeInt"/>.
    /// </summary>
    public IReadOnlyDictionary<string, JsonElement> CommandValues { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>
    /// Takes the command's own integer setting <paramref name="name"/>. The command-line option wins
    /// over the --config file, and <paramref name="fallback"/> applies when neither gives it. A value
    /// from the file must be an integer within [<paramref name="minimum"/>, <paramref name="maximum"/>].
    /// </summary>
    public int TakeInt(CommandLine line, string name, int fallback, int minimum, int maximum)
    {
        if (CommandValues.TryGetValue(name, out var value))
        {
            string label = FileChecks.ConfigKeyLabel(ConfigPath!, name);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int fromFile))
                throw new UsageException($"{label} must be an integer, got {value.GetRawText()}");
            if (fromFile < minimum || fromFile > maximum)
                throw new UsageException($"{label}: invalid value '{fromFile}'; expected an integer from {minimum} to {maximum}");
            fallback = fromFile;
        }
        return line.TakeInt(name, fallback, minimum, maximum);
    }

    /// <summary>
    /// The name of the data path's source in messages: "--data", the configuration file and key,
    /// or "the data file" when $DIGITNET_DATA or the default location gives the path.
    /// </summary>
    public string DataLabel => FromConfig("data") ? FileChecks.ConfigKeyLabel(ConfigPath!, "data") : FileChecks.DataLabel(Options.Data);

    /// <summary>
    /// Returns a copy of <paramref name="error"/> that names the configuration file and key in
    /// place of the option, when the file gave setting NAME and the error starts with "--NAME: "
    /// or, like the batch-size check of the trainer, with "--NAME VALUE: ". The first becomes
    /// "FILE: key 'NAME': " and the second "FILE: key 'NAME' is VALUE: ". Returns null for any
    /// other error. Settings such as "layers" and "batch-size" are only checked when the network
    /// is built, long after the file was read.
    /// </summary>
    public UsageException? NameConfigKey(OptionException error)
    {
        if (!error.Message.StartsWith("--", StringComparison.Ordinal))
            return null;
        int colon = error.Message.IndexOf(": ", StringComparison.Ordinal);
        if (colon < 0)
            return null;
        string option = error.Message[2..colon];
        int space = option.IndexOf(' ');
        string name = space < 0 ? option : option[..space];
        if (!FromConfig(name))
            return null;

        string label = FileChecks.ConfigKeyLabel(ConfigPath!, name);
        string value = space < 0 ? "" : $" is {option[(space + 1)..]}";
        return new UsageException($"{label}{value}{error.Message[colon..]}");
    }

    private bool FromConfig(string name) => ConfigPath is not null && ConfigKeys.Contains(name);
}

/// <summary>
/// Training settings that <see cref="Command"/> cannot use, and why. <see cref="TrainingSettings.Read"/>
/// rejects them on the command line and in a --config file, so that none is silently ignored.
/// The reason completes a sentence that starts "--NAME does not apply to COMMAND, which ...".
/// </summary>
public sealed record UnusableSettings(string Command, IReadOnlySet<string> Names, string Reason)
{
    /// <summary>Reasons for single settings that the general <see cref="Reason"/> does not fit, by setting name.</summary>
    public IReadOnlyDictionary<string, string> Reasons { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Returns the error for setting <paramref name="name"/>, which <paramref name="label"/> names
    /// as the user gave it, such as "--hidden" or "FILE: key 'hidden'".
    /// </summary>
    public UsageException Reject(string name, string label) =>
        new($"{label} does not apply to {Command}, which {Reasons.GetValueOrDefault(name, Reason)}");
}

/// <summary>Reads <see cref="TrainingOptions"/> from a --config file and then from command-line options, which win.</summary>
public static class TrainingSettings
{
    /// <summary>
    /// Settings that describe the network as hidden sizes, activation, dropout and bias, and what
    /// to write in a --layers list in their place. A layer list describes the whole network, so
    /// these settings cannot be given with it.
    /// </summary>
    private static readonly (string Name, string Replacement)[] ReplacedByLayers =
    [
        ("hidden", "write the hidden layers in the list, such as dense 50, sigmoid"),
        ("activation", "write an activation layer after each hidden layer in the list, such as relu"),
        ("dropout", "write dropout layers in the list, such as dropout 0.5"),
        ("bias", "write bias=false after a dense or conv layer in the list for a layer without a bias, such as dense 10 bias=false"),
    ];

    /// <summary>The names of the settings that a --layers list replaces.</summary>
    internal static IEnumerable<string> ReplacedByLayersNames => ReplacedByLayers.Select(setting => setting.Name);

    /// <summary>
    /// Top-level keys of a sweep or suite configuration that no training setting has, so a file
    /// with one of them is a sweep configuration given to the wrong command.
    /// </summary>
    private static readonly string[] SweepOnlyKeys = ["name", "base", "grid", "list", "sweeps"];

    /// <summary>The maximum number of symbolic links followed to find where a configuration file is, so that a loop of links ends.</summary>
    private const int MaxSymbolicLinks = 40;

    /// <summary>
    /// Applies <c>--config FILE</c> (if given) and then every training option on the command line.
    /// Options that belong to the command itself must be taken from <paramref name="line"/> first.
    /// The exceptions are those in <paramref name="commandKeys"/>, which the file may also set, so
    /// read them afterwards with <see cref="CommandSettings.TakeInt"/>. A setting in
    /// <paramref name="unusable"/> is rejected on the command line and in the file.
    /// </summary>
    public static CommandSettings Read(CommandLine line, TrainingOptions defaults, UnusableSettings? unusable = null,
        IReadOnlyCollection<string>? commandKeys = null)
    {
        if (unusable is not null)
        {
            foreach (var (name, _) in line.Remaining())
            {
                if (unusable.Names.Contains(name))
                    throw unusable.Reject(name, $"--{name}");
            }
        }

        var options = defaults;
        var configKeys = new HashSet<string>(StringComparer.Ordinal);
        var commandValues = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        string? config = line.TakePath("config");
        if (config is not null)
            options = ReadConfig(config, options, configKeys, unusable, commandKeys, commandValues);
        var fileKeys = configKeys.ToHashSet(StringComparer.Ordinal);

        var optionNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in line.Remaining().ToList())
        {
            var option = TrainingOptionTable.Find(name);
            if (option is null) continue;
            if (value is null) throw CommandLine.MissingValue(name);
            options = option.Parse(options, value);
            line.Take(name);
            configKeys.Remove(name);
            optionNames.Add(name);
        }

        var settings = new CommandSettings(options, config, configKeys) { CommandValues = commandValues };
        if (options.Layers is not null)
            CheckLayersAlone(optionNames, fileKeys, config);
        return settings;
    }

    /// <summary>
    /// Rejects a hidden size, activation, dropout or bias given with a layer list, on the command
    /// line or in the --config file, because the trainer would ignore it. The error names the
    /// option or the file and key that gave each of the two.
    /// </summary>
    private static void CheckLayersAlone(IReadOnlySet<string> optionNames, IReadOnlySet<string> fileKeys, string? configPath)
    {
        string Label(string name) => optionNames.Contains(name) ? $"--{name}" : FileChecks.ConfigKeyLabel(configPath!, name);

        foreach (var (name, replacement) in ReplacedByLayers)
        {
            if (!optionNames.Contains(name) && !fileKeys.Contains(name)) continue;

            string layersLabel;
            if (optionNames.Contains("layers"))
                layersLabel = "--layers";
            else if (optionNames.Contains(name))
                layersLabel = FileChecks.ConfigKeyLabel(configPath!, "layers");
            else
                layersLabel = "key 'layers'"; // the same file as the other key, which the message already names
            throw new UsageException($"{Label(name)} cannot be used with {layersLabel}, because the layer list describes the whole network; {replacement}");
        }
    }

    /// <summary>
    /// Reads a JSON configuration file of training settings on top of <paramref name="options"/>
    /// and adds the keys it sets to <paramref name="keys"/>. A relative "data" path is resolved
    /// against the folder that the file really is in, after following symbolic links, so the file
    /// means the same from any working folder and through any link to it. A key in
    /// <paramref name="unusable"/> is rejected before any value is checked. The values of
    /// <paramref name="commandKeys"/>, the command's own settings, go to <paramref name="commandValues"/>.
    /// </summary>
    public static TrainingOptions ReadConfig(string path, TrainingOptions options, ISet<string> keys, UnusableSettings? unusable = null,
        IReadOnlyCollection<string>? commandKeys = null, IDictionary<string, JsonElement>? commandValues = null)
    {
        if (Directory.Exists(path))
            throw new UsageException($"--config: {path} is a folder; give the path of a JSON file such as {Path.Combine(path, "train.json")}");
        FileChecks.CheckInput("--config", path, "a JSON file of training settings");
        using var document = ParseJson(path);
        var root = document.RootElement;
        commandKeys ??= [];
        if (root.ValueKind == JsonValueKind.Object)
        {
            RejectSweepConfig(root, path);
            foreach (var property in root.EnumerateObject())
            {
                if (unusable is not null && unusable.Names.Contains(property.Name))
                    throw unusable.Reject(property.Name, FileChecks.ConfigKeyLabel(path, property.Name));
                if (TrainingOptionTable.Find(property.Name) is null && !commandKeys.Contains(property.Name))
                    throw new UsageException($"{path}: unknown key '{property.Name}'; valid keys: {string.Join(", ", ValidKeys(unusable, commandKeys))}");
            }
        }
        var commandKeySet = commandKeys.ToHashSet(StringComparer.Ordinal);
        options = TrainingOptionTable.ApplyJson(options, root, path, commandKeySet);

        foreach (var property in root.EnumerateObject())
        {
            keys.Add(property.Name);
            if (commandKeySet.Contains(property.Name) && commandValues is not null)
                commandValues[property.Name] = property.Value.Clone();
        }
        if (keys.Contains("data"))
            options = options with { Data = ResolveDataPath(path, options.Data!) };
        return options;
    }

    /// <summary>Returns the keys that a configuration file of the command may contain: its usable training settings, then its own settings.</summary>
    private static IEnumerable<string> ValidKeys(UnusableSettings? unusable, IReadOnlyCollection<string> commandKeys) =>
        TrainingOptionTable.All
            .Select(option => option.Name)
            .Where(name => unusable is null || !unusable.Names.Contains(name))
            .Concat(commandKeys);

    /// <summary>Rejects a sweep or suite configuration, which train, finetune and gallery cannot run.</summary>
    private static void RejectSweepConfig(JsonElement root, string path)
    {
        foreach (string key in SweepOnlyKeys)
        {
            if (root.TryGetProperty(key, out _))
                throw new UsageException($"{path} is a sweep configuration; run it with digitnet sweep --config {path}");
        }
    }

    /// <summary>
    /// Resolves the "data" path of configuration file <paramref name="configPath"/>. A relative path
    /// is relative to the folder that the file really is in, after following symbolic links. When
    /// the folder as given leads to the same file, the result keeps that form, relative or absolute.
    /// Otherwise, such as for a link to a file in another folder, the result is the resolved
    /// absolute path, so that messages show the file that was looked for.
    /// </summary>
    private static string ResolveDataPath(string configPath, string data)
    {
        if (Path.IsPathRooted(data))
            return data;
        string asGiven = Path.Combine(Path.GetDirectoryName(configPath) ?? "", data);
        string resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(RealPath(configPath))!, data));
        return RealPath(asGiven) == RealPath(resolved) ? asGiven : resolved;
    }

    /// <summary>
    /// Returns the absolute path of <paramref name="path"/> with every symbolic link in it followed,
    /// like POSIX realpath. After <see cref="MaxSymbolicLinks"/> links, such as in a loop, it
    /// returns the path reached so far, and opening the file then fails with the system's error.
    /// </summary>
    internal static string RealPath(string path)
    {
        string pending = Path.GetFullPath(path);
        for (int links = 0; links < MaxSymbolicLinks; links++)
        {
            string root = Path.GetPathRoot(pending) ?? "";
            string[] parts = pending[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
            string current = root;
            string? followed = null;
            for (int i = 0; i < parts.Length && followed is null; i++)
            {
                string next = Path.Combine(current, parts[i]);
                FileSystemInfo entry = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
                if (entry.LinkTarget is { } target)
                {
                    // A relative link target is relative to the folder of the link, which has no links left in it.
                    followed = Path.GetFullPath(Path.Combine([Path.GetFullPath(target, current), .. parts[(i + 1)..]]));
                    break;
                }
                current = next;
            }
            if (followed is null)
                return current;
            pending = followed;
        }
        return pending;
    }

    /// <summary>
    /// Parses a JSON file, turning syntax errors into a one-line message with the position. A file
    /// that is not JSON but another format that <see cref="FileSignature"/> recognises, such as a
    /// PNG image, is named by its format in place of the position.
    /// </summary>
    public static JsonDocument ParseJson(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            var start = bytes.AsSpan(0, Math.Min(bytes.Length, FileSignature.Length));
            if (FileSignature.Detect(start, bytes.Length) is { } format && format != FileFormat.Text)
                throw new UsageException($"{path}: this is {FileSignature.Describe(format)}, not a JSON file; check which file is the configuration");
            throw new UsageException($"{path}: invalid JSON at line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}; check the syntax there");
        }
    }
}
