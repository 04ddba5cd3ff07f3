namespace DigitNet.Cli;

/// <summary>Thrown for bad command-line input; Program prints the message as one line and exits with code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The arguments of one command: <c>--name value</c>, <c>--name=value</c>, bare flags and
/// positional arguments, split once and then consumed by name so that leftovers can be reported.
/// </summary>
public sealed class CommandLine
{
    private readonly List<(string Name, string? Value)> _options = [];
    private readonly HashSet<int> _consumed = [];

    /// <summary>Required options that were absent, such as "--out FILE.png", which <see cref="RejectRemaining"/> reports.</summary>
    private readonly List<string> _missing = [];

    /// <summary>Positional arguments in order.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>
    /// Splits <paramref name="args"/>. Names in <paramref name="flags"/> take no value; every
    /// other option takes the next argument (or the text after '=') as its value, unless that
    /// argument is itself an option or "--". Then the option has no value, which <see cref="Take"/>
    /// reports for a known option and <see cref="RejectRemaining"/> for an unknown one. The
    /// arguments after "--" are positional, whatever they look like.
    /// </summary>
    public static CommandLine Parse(IReadOnlyList<string> args, IReadOnlySet<string> flags)
    {
        var line = new CommandLine();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                // Everything after "--" is positional, so a file whose name starts with "--" can be named.
                line.Positionals.AddRange(args.Skip(i + 1));
                break;
            }
            if (!IsOption(arg))
            {
                line.Positionals.Add(arg);
                continue;
            }

            string name = arg[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (!flags.Contains(name) && i + 1 < args.Count && !IsOption(args[i + 1]))
            {
                value = args[++i];
            }
            line._options.Add((name, value));
        }
        return line;
    }

    private static bool IsOption(string arg) => arg.StartsWith("--", StringComparison.Ordinal);

    /// <summary>Takes the value of option <paramref name="name"/> (the last one wins), or null if absent.</summary>
    public string? Take(string name)
    {
        string? value = null;
        for (int i = 0; i < _options.Count; i++)
        {
            if (_options[i].Name != name) continue;
            _consumed.Add(i);
            value = _options[i].Value ?? throw MissingValue(name);
        }
        return value;
    }

    /// <summary>Returns the error for option <paramref name="name"/> given without a value.</summary>
    public static UsageException MissingValue(string name) =>
        new($"option --{name} needs a value; for a value that starts with --, write --{name}=VALUE");

    /// <summary>Takes a path option like <see cref="Take"/>, rejecting an empty path; <paramref name="kind"/> is "file" or "folder".</summary>
    public string? TakePath(string name, string kind = "file")
    {
        string? path = Take(name);
        if (path is { Length: 0 })
            throw new UsageException($"--{name}: the path is empty; give the path of a {kind}");
        return path;
    }

    /// <summary>
    /// Takes a required path option like <see cref="TakePath"/>. When it is absent, returns "" and
    /// records it, so that <see cref="RejectRemaining"/> reports it after any unknown option, because
    /// a mistyped option name is the likelier cause. Use the value only after <see cref="RejectRemaining"/>.
    /// </summary>
    /// <param name="placeholder">The word for the value in the message, such as FILE.png.</param>
    public string TakeRequiredPath(string name, string placeholder, string kind = "file")
    {
        string? path = TakePath(name, kind);
        if (path is null)
            _missing.Add($"--{name} {placeholder}");
        return path ?? "";
    }

    /// <summary>Returns the error for a missing required option, which <paramref name="option"/> names with its placeholder, such as "--out FILE.png".</summary>
    public static UsageException MissingRequired(string command, string option) =>
        new($"missing required option {option}; run 'digitnet {command} --help' for the options");

    /// <summary>Takes a flag; true if it was given.</summary>
    public bool TakeFlag(string name)
    {
        bool found = false;
        for (int i = 0; i < _options.Count; i++)
        {
            if (_options[i].Name != name) continue;
            if (_options[i].Value is not null)
                throw new UsageException($"option --{name} takes no value, got '{_options[i].Value}'");
            _consumed.Add(i);
            found = true;
        }
        return found;
    }

    /// <summary>Takes an integer option within [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public int TakeInt(string name, int fallback, int minimum = int.MinValue, int maximum = int.MaxValue)
    {
        string? text = Take(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value)
            || value < minimum || value > maximum)
            throw new UsageException($"--{name}: invalid value '{text}'; expected an integer from {minimum} to {maximum}");
        return value;
    }

    /// <summary>The options not taken yet, in the order given.</summary>
    public IEnumerable<(string Name, string? Value)> Remaining() =>
        _options.Where((_, i) => !_consumed.Contains(i));

    /// <summary>
    /// Throws for the first option that was not taken, and then for the first required option that
    /// <see cref="TakeRequiredPath"/> did not find.
    /// </summary>
    public void RejectRemaining(string command, IEnumerable<string> valid)
    {
        foreach (var (name, _) in Remaining())
            throw new UsageException($"unknown option --{name} for '{command}'; run 'digitnet {command} --help' for the valid options");
        if (_missing.Count > 0)
            throw MissingRequired(command, _missing[0]);
    }
}
