using System.Text.Json;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>Reads <see cref="TrainingOptions"/> from a --config file and then from command-line options, which win.</summary>
public static class TrainingSettings
{
    /// <summary>
    /// Applies <c>--config FILE</c> (if given) and then every training option on the command line.
    /// Options that belong to the command itself must be taken from <paramref name="line"/> first.
    /// </summary>
    public static TrainingOptions Read(CommandLine line, TrainingOptions defaults)
    {
        var options = defaults;
        string? config = line.TakePath("config");
        if (config is not null) options = ReadConfig(config, options);

        foreach (var (name, value) in line.Remaining().ToList())
        {
            var option = TrainingOptionTable.Find(name);
            if (option is null) continue;
            if (value is null) throw CommandLine.MissingValue(name);
            options = option.Parse(options, value);
            line.Take(name);
        }
        return options;
    }

    /// <summary>Reads a JSON configuration file of training settings on top of <paramref name="options"/>.</summary>
    public static TrainingOptions ReadConfig(string path, TrainingOptions options, IReadOnlySet<string>? ignore = null)
    {
        if (Directory.Exists(path))
            throw new UsageException($"--config: {path} is a folder; give the path of a JSON file such as {Path.Combine(path, "train.json")}");
        FileChecks.CheckInput("--config", path, "a JSON file of training settings");
        using var document = ParseJson(path);
        return TrainingOptionTable.ApplyJson(options, document.RootElement, path, ignore);
    }

    /// <summary>Parses a JSON file, turning syntax errors into a one-line message with the position.</summary>
    public static JsonDocument ParseJson(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path}: invalid JSON at line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}; check the syntax there");
        }
    }
}
