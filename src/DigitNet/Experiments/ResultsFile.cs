using System.Text;
using System.Text.Json;
using DigitNet.Data.Formats;

namespace DigitNet.Experiments;

/// <summary>The records read from a results file, and what had to be skipped.</summary>
/// <param name="Records">Records in file order; a repeated id keeps its first record.</param>
/// <param name="TornLine">Whether the file ended in an incomplete line (a run killed while writing), which was skipped.</param>
/// <param name="Duplicates">Records skipped because an earlier line has the same id.</param>
public sealed record ResultsContent(IReadOnlyList<TrialRecord> Records, bool TornLine, int Duplicates);

/// <summary>
/// A sweep's results in JSON-lines form: one <see cref="TrialRecord"/> per line, appended and
/// flushed as each trial finishes, so a run killed at any moment loses at most the trials that
/// were running and a resumed run finds every finished one.
/// </summary>
public sealed class ResultsFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly Lock _lock = new();

    private ResultsFile(FileStream stream) => _stream = stream;

    /// <summary>
    /// Reads the records of <paramref name="path"/>; a missing file has none. An incomplete last
    /// line is skipped, and with <paramref name="repair"/> cut off so that appends start on a fresh line.
    /// </summary>
    /// <exception cref="FormatException">
    /// The file is of another known format, such as a sweep configuration or a PNG image, and the
    /// message names it. Or a complete line is not a valid record, and the message gives the line number.
    /// </exception>
    public static ResultsContent Read(string path, bool repair)
    {
        if (!File.Exists(path)) return new ResultsContent([], false, 0);
        byte[] bytes = File.ReadAllBytes(path);

        // Checked before an incomplete last line is cut off, because a file without a final line
        // break, such as a configuration, would otherwise lose its last line.
        if (DescribeOtherFormat(bytes) is { } format)
            throw new FormatException($"{path}: this is {format}, not a results file; give the results.jsonl files that digitnet sweep wrote");

        int end = bytes.Length;
        int lastNewline = Array.LastIndexOf(bytes, (byte)'\n');
        bool torn = lastNewline < bytes.Length - 1;
        if (torn)
        {
            end = lastNewline + 1;
            if (repair)
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
                stream.SetLength(end);
                stream.Flush(flushToDisk: true);
            }
        }

        var records = new List<TrialRecord>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        int duplicates = 0;
        string text = Encoding.UTF8.GetString(bytes, 0, end);
        int lineNumber = 0;
        foreach (string line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            TrialRecord record;
            try
            {
                record = TrialRecord.Parse(line);
            }
            catch (FormatException e)
            {
                throw new FormatException($"{path}: line {lineNumber} is not a valid trial record: {e.Message}; delete that line to run the trial again");
            }
            if (ids.Add(record.Id)) records.Add(record);
            else duplicates++;
        }
        return new ResultsContent(records, torn, duplicates);
    }

    /// <summary>
    /// Returns the article and name of a known format that is not a results file, such as "a sweep
    /// configuration", or null when <paramref name="bytes"/> may be a results file. Every line of a
    /// results file is one JSON object with an <c>id</c>, so a file that is one JSON object
    /// without an <c>id</c> and with the keys of another DigitNet file is not one.
    /// </summary>
    private static string? DescribeOtherFormat(byte[] bytes)
    {
        var start = bytes.AsSpan(0, Math.Min(bytes.Length, FileSignature.Length));
        if (FileSignature.Detect(start, bytes.Length) is { } signature && signature != FileFormat.Text)
            return FileSignature.Describe(signature);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException)
        {
            // Several lines of records, or text that is not JSON: the lines are checked one by one.
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.TryGetProperty("id", out _)) return null;
            bool Has(string key) => root.TryGetProperty(key, out _);
            if (Has("sweeps")) return "a sweep suite configuration";
            if (Has("base") || Has("grid") || Has("list")) return "a sweep configuration";
            if (Has("settings") && Has("test_accuracy")) return "a metrics file of digitnet train";
            return null;
        }
    }

    /// <summary>Opens <paramref name="path"/> for appending records, creating it if needed.</summary>
    public static ResultsFile OpenAppend(string path) =>
        new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));

    /// <summary>Appends one record as a line and flushes it to disk; safe to call from several threads.</summary>
    public void Append(TrialRecord record)
    {
        byte[] line = Encoding.UTF8.GetBytes(record.ToJsonLine() + "\n");
        lock (_lock)
        {
            // One write call per line, so a kill leaves at most one incomplete line at the end.
            _stream.Write(line);
            _stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>Formats <paramref name="records"/> as the content of a results file, one line each.</summary>
    public static string Format(IEnumerable<TrialRecord> records)
    {
        var text = new StringBuilder();
        foreach (var record in records) text.Append(record.ToJsonLine()).Append('\n');
        return text.ToString();
    }

    public void Dispose() => _stream.Dispose();
}
