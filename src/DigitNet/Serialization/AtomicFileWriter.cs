namespace DigitNet.Serialization;

/// <summary>
/// Writes a file through a temporary file in the same folder, flushed to disk and then renamed
/// over the target. A rename within one file system replaces the target in one step, so a reader
/// finds, and a process killed in the middle leaves, either the old file or the complete new one. A symbolic
/// link is followed, so the link stays and the file it points to is replaced.
/// </summary>
public static class AtomicFileWriter
{
    /// <summary>Calls <paramref name="write"/> on a temporary file, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, device, FIFO or socket, which a rename would
    /// replace; or writing failed, for example on a full disk. The message names <paramref name="path"/>, which is left as it was.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = OutputFile.ResolveTarget(path);
        string? folder = Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder))
            throw new DirectoryNotFoundException($"cannot write {path}: folder {folder} does not exist");

        // Process id and a random part keep concurrent writers, in this process or another, apart.
        string temporary = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            // NOTE: the folder itself is not fsynced after the rename, so after a power loss (not a
            // killed process) the rename may be lost and the old file found in its place.
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            string advice = OutputFile.IsOutOfSpace(e) ? "free some space or choose another location" : "choose another location";
            throw new IOException($"cannot write {path} ({OutputFile.DescribeWriteFailure(e)}), and it was left as it was; {advice}", e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The original error matters more than a leftover temporary file.
        }
    }
}
