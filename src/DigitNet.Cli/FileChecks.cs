using DigitNet.Data.Formats;
using DigitNet.Serialization;

namespace DigitNet.Cli;

/// <summary>
/// Checks on the file options of the commands, run before any work: inputs that are missing,
/// unreadable or empty, outputs that cannot be written, names that promise the wrong format, and
/// outputs that would replace another file.
/// </summary>
public static class FileChecks
{
    /// <summary>
    /// Returns how messages name the data file: "--data" when the user gave it, otherwise "the data
    /// file", which came from $DIGITNET_DATA or the default location.
    /// </summary>
    internal static string DataLabel(string? dataOption) => dataOption is null ? "the data file" : "--data";

    /// <summary>
    /// Returns how messages name a setting that a --config file gave, such as
    /// "train.json: key 'data'", the form that the errors of the file's other keys use.
    /// </summary>
    internal static string ConfigKeyLabel(string configPath, string key) => $"{configPath}: key '{key}'";

    /// <summary>Returns the message for an input file that does not exist.</summary>
    /// <param name="label">The option (--data), environment variable ($DIGITNET_DATA), argument (image) or configuration key that named the file.</param>
    internal static string NotFound(string label, string path) => $"{label}: file not found: {path}; check the path";

    /// <summary>
    /// Returns the message for an input file of 0 bytes. <paramref name="expected"/> names what the
    /// file should be, with its article, such as "a safetensors model file".
    /// </summary>
    internal static string Empty(string label, string path, string expected) =>
        $"{label}: file is empty (0 bytes): {path}; give the path of {expected}";

    /// <summary>
    /// Returns the message for an input file that cannot be opened for reading. With
    /// <paramref name="folderDeniesSearch"/> set, a folder on the path denies search (x) permission,
    /// so the file itself cannot even be looked up.
    /// </summary>
    internal static string PermissionDenied(string label, string path, bool folderDeniesSearch = false) => folderDeniesSearch
        ? $"{label}: permission denied: {path}; give search (x) permission on every folder in the path"
        : $"{label}: permission denied: {path}; make the file readable";

    /// <summary>
    /// Returns the <see cref="NotFound"/>, <see cref="PermissionDenied"/> or <see cref="Empty"/>
    /// message for an input file, or null when the file exists, can be read and is not empty. A
    /// folder also returns null, so that the caller or the reader can name it as a folder.
    /// </summary>
    internal static string? FindInputProblem(string label, string path, string expected)
    {
        if (FindAccessProblem(label, path) is { } problem)
            return problem;
        return IsEmptyRegularFile(path) ? Empty(label, path, expected) : null;
    }

    /// <summary>Throws the <see cref="FindInputProblem"/> message when an input file is missing, unreadable or empty.</summary>
    internal static void CheckInput(string label, string path, string expected)
    {
        if (FindInputProblem(label, path, expected) is { } problem)
            throw new UsageException(problem);
    }

    /// <summary>
    /// Throws the <see cref="NotFound"/> or <see cref="PermissionDenied"/> message for an input
    /// file that may be empty, such as a results file.
    /// </summary>
    internal static void CheckReadable(string label, string path)
    {
        if (FindAccessProblem(label, path) is { } problem)
            throw new UsageException(problem);
    }

    /// <summary>Rejects a missing, unreadable or empty --model file before the reader opens it.</summary>
    internal static void CheckModel(string path) => CheckInput("--model", path, FileSignature.Describe(FileFormat.SafeTensors));

    /// <summary>
    /// Returns the <see cref="NotFound"/> or <see cref="PermissionDenied"/> message for an input
    /// file, or null. Only a regular file (a symbolic link is checked at its target) is opened to
    /// test the permission, because opening a FIFO waits for a writer.
    /// </summary>
    private static string? FindAccessProblem(string label, string path)
    {
        if (Directory.Exists(path))
            return null;
        // File.Exists also returns false when a folder on the path denies search permission, and
        // only an attempt to open the file distinguishes that case from a missing file.
        if (!File.Exists(path))
            return IsReadDenied(path) ? PermissionDenied(label, path, folderDeniesSearch: true) : NotFound(label, path);
        if (OutputFile.GetKind(FinalTarget(path).FullName) == FileKind.RegularFile && IsReadDenied(path))
            return PermissionDenied(label, path);
        return null;
    }

    /// <summary>
    /// Returns whether opening <paramref name="path"/> for reading fails for lack of permission.
    /// Any other failure returns false and is left to the reader, which names it in its own words.
    /// </summary>
    private static bool IsReadDenied(string path)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Returns whether <paramref name="path"/> is a regular file of 0 bytes. Only a regular file
    /// counts as empty, because a FIFO or device reports 0 bytes but may still deliver data.
    /// </summary>
    private static bool IsEmptyRegularFile(string path)
    {
        var target = FinalTarget(path);
        return OutputFile.GetKind(target.FullName) == FileKind.RegularFile && target.Length == 0;
    }

    /// <summary>Returns <paramref name="path"/>, or for a symbolic link the end of its chain of links.</summary>
    private static FileInfo FinalTarget(string path)
    {
        var info = new FileInfo(path);
        return info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
    }

    /// <summary>
    /// Rejects two file options, inputs or outputs, that name the same file (through a link too),
    /// because writing an output would replace the other file.
    /// </summary>
    internal static void CheckDistinct(params (string Option, string? Path)[] files)
    {
        var named = files.Where(file => file.Path is not null).ToList();
        for (int i = 0; i < named.Count; i++)
        {
            for (int j = i + 1; j < named.Count; j++)
            {
                if (OutputFile.SameFile(named[i].Path!, named[j].Path!))
                    throw SharedFile(named[i].Option, named[j].Option, named[j].Path!);
            }
        }
    }

    /// <summary>
    /// Rejects an output that names one of <paramref name="inputs"/> (through a link too), because
    /// writing the output would replace that input. Unlike <see cref="CheckDistinct"/>, it lets two
    /// inputs name the same file.
    /// </summary>
    internal static void CheckNotInput((string Option, string Path) output, IEnumerable<(string Option, string Path)> inputs)
    {
        foreach (var input in inputs)
        {
            if (OutputFile.SameFile(input.Path, output.Path))
                throw SharedFile(input.Option, output.Option, output.Path);
        }
    }

    private static UsageException SharedFile(string firstOption, string secondOption, string path) =>
        new($"{firstOption} and {secondOption} both name {path}; give each its own file");

    // File name endings of the formats that DigitNet reads or writes.
    private static readonly string[] OwnFormats = [".png", ".mat", ".json", ".safetensors"];

    /// <summary>
    /// Fails before any work when <paramref name="path"/> cannot be written: a missing or read-only
    /// folder, or a folder, device, FIFO or socket in place of a file (a symbolic link is checked at
    /// its target), or a name that ends in another DigitNet format than <paramref name="exampleName"/>.
    /// <paramref name="exampleName"/> is the file name that the message suggests in place of a folder.
    /// </summary>
    public static void CheckWritable(string path, string option, string exampleName)
    {
        if (Directory.Exists(path))
            throw new UsageException($"{option}: {path} is a folder; give a file name such as {Path.Combine(path, exampleName)}");

        // Images are always PNG, so a name that promises another format would mislead anyone who
        // opens the file. Other outputs may take any name but that of another DigitNet format,
        // which is most likely a slip (a .mat name could even replace a data set).
        string extension = Path.GetExtension(path);
        string expected = Path.GetExtension(exampleName);
        bool isImage = expected == ".png";
        bool wrongImage = isImage && extension.Length > 0 && !extension.Equals(".png", StringComparison.OrdinalIgnoreCase);
        bool otherFormat = !isImage && !extension.Equals(expected, StringComparison.OrdinalIgnoreCase)
            && OwnFormats.Contains(extension, StringComparer.OrdinalIgnoreCase);
        if (wrongImage || otherFormat)
        {
            string writes = isImage ? "DigitNet draws PNG images" : $"{option} writes a {expected} file";
            throw new UsageException(
                $"{option}: {path} ends in {extension}, but {writes}; name the file {Path.ChangeExtension(Path.GetFileName(path), expected)}");
        }

        string target;
        try
        {
            target = OutputFile.ResolveTarget(path);
        }
        catch (IOException e)
        {
            throw new UsageException($"{option}: {e.Message}");
        }

        string? folder = Path.GetDirectoryName(target);
        if (folder is null) return;
        if (!Directory.Exists(folder))
            throw new UsageException($"{option}: folder {folder} does not exist; create it first");

        CheckFolderAcceptsFiles(folder, option);
    }

    /// <summary>
    /// Fails before any work when files cannot be created in the output folder
    /// <paramref name="path"/>, or, when it does not exist yet, when it cannot be created in its
    /// nearest existing parent folder. A parent that is a file is left to the caller.
    /// </summary>
    internal static void CheckWritableFolder(string path, string option)
    {
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(fullPath))
        {
            CheckFolderAcceptsFiles(path, option);
            return;
        }

        string? parent = Path.GetDirectoryName(fullPath);
        while (parent is not null && !Directory.Exists(parent))
        {
            if (Path.Exists(parent)) return;
            parent = Path.GetDirectoryName(parent);
        }
        if (parent is null || FindWriteProblem(parent) is not { } problem) return;
        throw new UsageException($"{option}: cannot create folder {fullPath} in {parent} ({problem}); choose another location");
    }

    /// <summary>
    /// Rejects an existing file that is appended to in place, such as a sweep's results file, when
    /// it cannot be opened for writing. A missing file passes, because its folder is checked instead.
    /// </summary>
    internal static void CheckAppendable(string label, string path)
    {
        if (OutputFile.GetKind(FinalTarget(path).FullName) != FileKind.RegularFile) return;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{label}: permission denied: {path}; make the file writable");
        }
    }

    private static void CheckFolderAcceptsFiles(string folder, string option)
    {
        if (FindWriteProblem(folder) is { } problem)
            throw new UsageException($"{option}: cannot write to folder {folder} ({problem}); choose another location");
    }

    /// <summary>Returns why a new file cannot be created in <paramref name="folder"/>, or null when one can.</summary>
    private static string? FindWriteProblem(string folder)
    {
        string probe = Path.Combine(folder, $".digitnet-write-test-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return DescribeWriteFailure(e);
        }
    }

    /// <summary>
    /// States in plain words why a new file could not be created in a folder. The exception's own
    /// message is not used because it names the hidden probe file, which the user never asked for.
    /// </summary>
    private static string DescribeWriteFailure(Exception e) => e is FileNotFoundException or DirectoryNotFoundException
        ? "the folder does not accept new files, as in /proc or another special file system"
        : OutputFile.DescribeWriteFailure(e);
}
