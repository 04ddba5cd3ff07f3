using System.Globalization;
using System.Text;

namespace DigitNet.Models;

/// <summary>
/// One layer of an architecture in its text form: a kind, positional arguments and
/// <c>key=value</c> options separated by spaces, such as <c>dense 180</c>, <c>dropout 0.5</c>,
/// <c>dense 10 bias=false</c> or <c>conv 16 5x5 pad=2</c>.
/// </summary>
public sealed class LayerSpec
{
    private readonly Dictionary<string, string> _options;

    public LayerSpec(string kind, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> options)
    {
        Kind = kind;
        Arguments = arguments;
        _options = new Dictionary<string, string>(options, StringComparer.Ordinal);
    }

    /// <summary>Layer kind, lower case (<c>dense</c>, <c>relu</c>, <c>conv</c>).</summary>
    public string Kind { get; }

    /// <summary>Positional arguments in order.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Named options.</summary>
    public IReadOnlyDictionary<string, string> Options => _options;

    /// <summary>Parses one layer; throws <see cref="FormatException"/> naming the text on error.</summary>
    public static LayerSpec Parse(string text)
    {
        var tokens = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0)
            throw new FormatException("empty layer description; expected e.g. 'dense 100' or 'relu'");

        string kind = tokens[0].ToLowerInvariant();
        var arguments = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string token in tokens.Skip(1))
        {
            int eq = token.IndexOf('=');
            if (eq < 0)
            {
                if (options.Count > 0)
                    throw new FormatException($"layer '{text}': positional argument '{token}' must come before key=value options");
                arguments.Add(token);
                continue;
            }
            string key = token[..eq].ToLowerInvariant();
            string value = token[(eq + 1)..];
            if (key.Length == 0 || value.Length == 0)
                throw new FormatException($"layer '{text}': option '{token}' must be key=value");
            if (!options.TryAdd(key, value))
                throw new FormatException($"layer '{text}': option '{key}' is given twice");
        }
        return new LayerSpec(kind, arguments, options);
    }

    /// <summary>The positional argument at <paramref name="index"/> as an integer, or <paramref name="fallback"/> if absent.</summary>
    public int IntArgument(int index, int? fallback = null)
    {
        if (index >= Arguments.Count)
            return fallback ?? throw Error($"needs argument {index + 1} (an integer)");
        if (!int.TryParse(Arguments[index], NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value <= 0)
            throw Error($"argument '{Arguments[index]}' must be a positive integer");
        return value;
    }

    /// <summary>The positional argument at <paramref name="index"/> as a number, or <paramref name="fallback"/> if absent.</summary>
    public double DoubleArgument(int index, double? fallback = null)
    {
        if (index >= Arguments.Count)
            return fallback ?? throw Error($"needs argument {index + 1} (a number)");
        if (!double.TryParse(Arguments[index], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            throw Error($"argument '{Arguments[index]}' must be a number");
        return value;
    }

    /// <summary>An integer option, or <paramref name="fallback"/> if absent.</summary>
    public int IntOption(string key, int fallback, int minimum = 0)
    {
        if (!_options.TryGetValue(key, out string? text)) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < minimum)
            throw Error($"option {key}={text} must be an integer of at least {minimum}");
        return value;
    }

    /// <summary>A boolean option (<c>true</c> or <c>false</c>), or <paramref name="fallback"/> if absent.</summary>
    public bool BoolOption(string key, bool fallback)
    {
        if (!_options.TryGetValue(key, out string? text)) return fallback;
        return text.ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw Error($"option {key}={text} must be true or false"),
        };
    }

    /// <summary>Throws unless every option is one of <paramref name="known"/> and there are at most <paramref name="maxArguments"/> positional arguments.</summary>
    public void CheckAllowed(int maxArguments, params string[] known)
    {
        if (Arguments.Count > maxArguments)
            throw Error($"takes at most {maxArguments} positional argument(s), got {Arguments.Count}");
        foreach (string key in _options.Keys)
        {
            if (Array.IndexOf(known, key) < 0)
                throw Error(known.Length == 0
                    ? $"takes no options, got '{key}'"
                    : $"unknown option '{key}'; expected one of {string.Join(", ", known)}");
        }
    }

    /// <summary>An error that names this layer.</summary>
    public FormatException Error(string message) => new($"layer '{this}': {message}");

    /// <summary>The canonical text form, which <see cref="Parse"/> reads back.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Kind);
        foreach (string argument in Arguments) text.Append(' ').Append(argument);
        foreach (var (key, value) in _options) text.Append(' ').Append(key).Append('=').Append(value);
        return text.ToString();
    }
}
