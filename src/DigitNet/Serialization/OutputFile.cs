using System.Runtime.InteropServices;

namespace DigitNet.Serialization;

/// <summary>The type of a file system entry, as the file mode from <c>stat</c> gives it.</summary>
public enum FileKind { Missing, RegularFile, Directory, CharacterDevice, BlockDevice, Fifo, Socket, SymbolicLink, Other }

/// <summary>
/// Checks where an output file goes before it is written through a temporary file and a rename.
/// A rename replaces whatever entry has the name, so a device, a FIFO or a symbolic link given as
/// the output would otherwise be swapped for a regular file.
/// </summary>
public static partial class OutputFile
{
    /// <summary>
    /// Returns the full path that a write to <paramref name="path"/> replaces: the path itself, or for
    /// a symbolic link the end of its chain of links, so that the link stays and its target gets the content.
    /// </summary>
    /// <exception cref="IOException">The entry there is not a regular file: a folder, device, FIFO or socket.</exception>
    public static string ResolveTarget(string path)
    {
        string full = Path.GetFullPath(path);
        string target = full;
        if (GetKind(full) == FileKind.SymbolicLink)
            target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;

        var kind = GetKind(target);
        if (kind is FileKind.Missing or FileKind.RegularFile) return target;

        string subject = target == full ? path : $"{path} (a link to {target})";
        throw new IOException($"cannot write {subject}: it is {Describe(kind)}, not a regular file; give the path of a regular file");
    }

    /// <summary>
    /// Returns whether two paths name the same file: the same device and inode where Linux statx
    /// reads both (so symbolic and hard links count), otherwise the same full path after
    /// symbolic links, compared without case on Windows and macOS.
    /// </summary>
    public static bool SameFile(string first, string second)
    {
        if (OperatingSystem.IsLinux() && TryStatxId(first, out var firstId) && TryStatxId(second, out var secondId))
            return firstId == secondId;

        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
            ? StringComparison.OrdinalIgnoreCase
            : StringComparison.Ordinal;
        return string.Equals(FinalPath(first), FinalPath(second), comparison);
    }

    /// <summary>Returns the full path of <paramref name="path"/>, or of the end of its chain of symbolic links.</summary>
    private static string FinalPath(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder on the path that denies search permission hides the link too, and the
            // input check names that case.
            return full;
        }
    }

    /// <summary>
    /// States in plain words why creating or writing a file failed, such as "no space left on the
    /// device". The exception's own message is not used: it names the temporary file, which the
    /// user never asked for.
    /// </summary>
    public static string DescribeWriteFailure(Exception error) => error switch
    {
        UnauthorizedAccessException => "permission denied",
        IOException { HResult: ReadOnlyFileSystem } => "read-only file system",
        _ when IsOutOfSpace(error) => "no space left on the device",
        _ => $"the system reported error code {error.HResult}",
    };

    /// <summary>Returns whether <paramref name="error"/> reports a full disk or file system.</summary>
    public static bool IsOutOfSpace(Exception error) => error is IOException { HResult: NoSpace };

    // .NET on Unix gives a plain IOException the errno as its HResult: a read-only tmpfs gave
    // EROFS (30) and a full one ENOSPC (28). Both have the same numbers on Linux and macOS.
    private const int NoSpace = 28, ReadOnlyFileSystem = 30;

    /// <summary>Returns the type of the entry at <paramref name="path"/>, without following a symbolic link there.</summary>
    public static FileKind GetKind(string path)
    {
        if (OperatingSystem.IsLinux() && TryStatxMode(path, out var mode, out bool missing))
            return missing ? FileKind.Missing : KindFromMode(mode);

        // NOTE: without statx (other systems) devices, FIFOs and sockets are reported as regular files.
        var info = new FileInfo(path);
        if (info.LinkTarget is not null) return FileKind.SymbolicLink;
        if (Directory.Exists(path)) return FileKind.Directory;
        return info.Exists ? FileKind.RegularFile : FileKind.Missing;
    }

    /// <summary>Returns the article and name of <paramref name="kind"/> for messages, such as "a FIFO".</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.RegularFile => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.Socket => "a socket",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.Missing => "missing",
        _ => "a special file",
    };

    private static FileKind KindFromMode(ushort mode) => (mode & 0xF000) switch
    {
        0x8000 => FileKind.RegularFile,
        0x4000 => FileKind.Directory,
        0x2000 => FileKind.CharacterDevice,
        0x6000 => FileKind.BlockDevice,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        0xA000 => FileKind.SymbolicLink,
        _ => FileKind.Other,
    };

    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int NoSuchEntry = 2;
    private const int NotADirectory = 20;

    /// <summary>Size of <c>struct statx</c>, fixed for every architecture by Linux's include/uapi/linux/stat.h.</summary>
    private const int StatxSize = 256;

    /// <summary>Offset of the 16-bit <c>stx_mode</c> field in <c>struct statx</c>.</summary>
    private const int StatxModeOffset = 0x1C;

    /// <summary>
    /// Reads the file mode with Linux statx, whose buffer layout does not depend on the architecture
    /// (unlike <c>struct stat</c>). Returns false when statx itself is unavailable or fails for
    /// another reason than a missing entry.
    /// </summary>
    private static bool TryStatxMode(string path, out ushort mode, out bool missing)
    {
        mode = 0;
        missing = false;
        var buffer = new byte[StatxSize];
        int result;
        try
        {
            result = Statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxType, buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }

        if (result != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            missing = error is NoSuchEntry or NotADirectory;
            return missing;
        }
        mode = BitConverter.ToUInt16(buffer, StatxModeOffset);
        return true;
    }

    private const uint StatxInode = 0x100;

    /// <summary>Offset of the 64-bit <c>stx_ino</c> field in <c>struct statx</c>.</summary>
    private const int StatxInodeOffset = 0x20;

    /// <summary>Offset of the 32-bit <c>stx_dev_major</c> field, followed by <c>stx_dev_minor</c>.</summary>
    private const int StatxDeviceOffset = 0x88;

    /// <summary>
    /// Reads the device and inode of the file at <paramref name="path"/>, following symbolic
    /// links. Returns false when the file is missing or statx is unavailable.
    /// </summary>
    private static bool TryStatxId(string path, out (ulong Device, ulong Inode) id)
    {
        id = default;
        var buffer = new byte[StatxSize];
        try
        {
            if (Statx(AtCurrentDirectory, path, 0, StatxInode, buffer) != 0)
                return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        ulong device = BitConverter.ToUInt64(buffer, StatxDeviceOffset);
        id = (device, BitConverter.ToUInt64(buffer, StatxInodeOffset));
        return true;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, [Out] byte[] buffer);
}
