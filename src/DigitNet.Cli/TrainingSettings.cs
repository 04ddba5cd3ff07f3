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
    /// The name of the data path's source in messages: "--data", the configuration file and key,
    /// or "the data file" when $DIGITNET_DATA or the default location gives the path.
    /// </summary>
    public string DataLabel => FromConfig("data") ? FileChecks.ConfigKeyLabel(ConfigPath!, "data") : FileChecks.DataLabel(Options.Data);

    /// <summary>
    /// Returns a copy of <paramref name="error"/> that names the configuration file and key in
    /// place of the option, when the error starts with "--NAME: " and the file gave setting NAME.
    /// Returns null for any other error. Settings such as "layers" are only checked when the
    /// network is built, long after the file was read.
    /// </summary>
    public UsageException? NameConfigKey(OptionException error)
    {
        if (!error.Message.StartsWith("--", StringComparison.Ordinal))
            return null;
        int colon = error.Message.IndexOf(": ", StringComparison.Ordinal);
        if (colon < 0)
            return null;
        string name = error.Message[2..colon];
        return FromConfig(name) ? new UsageException($"{FileChecks.ConfigKeyLabel(ConfigPath!, name)}{error.Message[colon..]}") : null;
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
    /// <summary>Returns the error for the setting that <paramref name="label"/> names, such as "--hidden" or "FILE: key 'hidden'".</summary>
    public UsageException Reject(string label) => new($"{label} does not apply to {Command}, which {Reason}");
}

/// <summary>Reads <see cref="TrainingOptions"/> from a --config file and then from command-line options, which win.</summary>
public static class TrainingSettings
{
    /// <summary>
    /// Applies <c>--config FILE</c> (if given) and then every training option on the command line.
    /// Options that belong to the command itself must be taken from <paramref name="line"/> first.
    /// A setting in <paramref name="unusable"/> is rejected on the command line and in the file.
    /// </summary>
    public static CommandSettings Read(CommandLine line, TrainingOptions defaults, UnusableSettings? unusable = null)
    {
        if (unusable is not null)
        {
            foreach (var (name, _) in line.Remaining())
            {
                if (unusable.Names.Contains(name))
                    throw unusable.Reject($"--{name}");
            }
        }

        var options = defaults;
        var configKeys = new HashSet<string>(StringComparer.Ordinal);
        string? config = line.TakePath("config");
        if (config is not null) options = ReadConfig(config, options, configKeys, unusable);

        foreach (var (name, value) in line.Remaining().ToList())
        {
            var option = TrainingOptionTable.Find(name);
            if (option is null) continue;
            if (value is null) throw CommandLine.MissingValue(name);
            options = option.Parse(options, value);
            line.Take(name);
            configKeys.Remove(name);
        }
        return new CommandSettings(options, config, configKeys);
    }

    /// <summary>
    /// Reads a JSON configuration file of training settings on top of <paramref name="options"/>
    /// and adds the keys it sets to <paramref name="keys"/>. A relative "data" path is resolved
    /// against the folder of the configuration file, so the file means the same from any working folder.
    /// A key in <paramref name="unusable"/> is rejected before any value is checked.
    /// </summary>
    public static TrainingOptions ReadConfig(string path, TrainingOptions options, ISet<string> keys, UnusableSettings? unusable = null)
    {
        if (Directory.Exists(path))
            throw new UsageException($"--config: {path} is a folder; give the path of a JSON file such as {Path.Combine(path, "train.json")}");
        FileChecks.CheckInput("--config", path, "a JSON file of training settings");
        using var document = ParseJson(path);
        if (unusable is not null && document.RootElement.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (unusable.Names.Contains(property.Name))
                    throw unusable.Reject(FileChecks.ConfigKeyLabel(path, property.Name));
            }
        }
        options = TrainingOptionTable.ApplyJson(options, document.RootElement, path);

        foreach (var property in document.RootElement.EnumerateObject())
            keys.Add(property.Name);
        if (keys.Contains("data"))
            options = options with { Data = Path.Combine(Path.GetDirectoryName(path) ?? "", options.Data!) };
        return options;
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
