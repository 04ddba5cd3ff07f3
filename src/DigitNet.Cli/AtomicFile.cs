using DigitNet.Serialization;

namespace DigitNet.Cli;

/// <summary>
/// Writes the CLI's text and image outputs through <see cref="AtomicFileWriter"/>: a temporary
/// file in the same folder and a rename, so a reader never sees half a file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/>, replacing it only once the new content is on disk.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(text);
        });

    /// <summary>Calls <paramref name="write"/> on a temporary file, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write) => AtomicFileWriter.Write(path, write);
}
