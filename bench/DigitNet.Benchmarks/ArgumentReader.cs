using System.Globalization;

namespace DigitNet.Benchmarks;

/// <summary>Reads <c>--name value</c> options and <c>--flag</c> switches of one mode, and rejects the rest.</summary>
internal sealed class ArgumentReader
{
    private readonly List<string> _arguments;
    private readonly string _mode;

    public ArgumentReader(string mode, IEnumerable<string> arguments)
    {
        _mode = mode;
        _arguments = arguments.ToList();
    }

    /// <summary>Removes <c>--name value</c> and returns the value, or null when the option is absent.</summary>
    public string? Text(string name)
    {
        int index = _arguments.IndexOf("--" + name);
        if (index < 0) return null;
        if (index + 1 >= _arguments.Count)
            throw new ArgumentException($"{_mode}: option --{name} needs a value");
        string value = _arguments[index + 1];
        _arguments.RemoveRange(index, 2);
        return value;
    }

    /// <summary>Removes <c>--name</c> and returns whether it was present.</summary>
    public bool Flag(string name) => _arguments.Remove("--" + name);

    public int Int(string name, int fallback)
    {
        string? text = Text(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 0)
            throw new ArgumentException($"{_mode}: --{name} must be a non-negative integer, got '{text}'");
        return value;
    }

    public double Double(string name, double fallback)
    {
        string? text = Text(name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0))
            throw new ArgumentException($"{_mode}: --{name} must be a positive number, got '{text}'");
        return value;
    }

    /// <summary>A comma-separated list of positive integers, such as <c>1,2</c>.</summary>
    public int[] IntList(string name, int[] fallback)
    {
        string? text = Text(name);
        if (text is null) return fallback;
        var values = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value <= 0)
                throw new ArgumentException($"{_mode}: --{name} must be a comma-separated list of positive integers, got '{text}'");
            values.Add(value);
        }
        return values.Count > 0 ? values.ToArray() : fallback;
    }

    /// <summary>Throws when an argument was not read.</summary>
    public void RejectRemaining()
    {
        if (_arguments.Count > 0)
            throw new ArgumentException($"{_mode}: unknown argument '{_arguments[0]}'; run with --help for the options");
    }
}
