using System.Diagnostics;
using DigitNet.Serialization;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>
/// Output files are written through a temporary file and a rename, which would replace a FIFO,
/// device or symbolic link with a regular file. These tests use a FIFO made with mkfifo, which
/// takes the same path through the checks as a device.
/// </summary>
public sealed class OutputPathTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string MakeFifo(string name)
    {
        string path = Path.Combine(_folder.Path, name);
        using var process = Process.Start("mkfifo", [path]) ?? throw new InvalidOperationException("could not start mkfifo");
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"mkfifo {path} failed");
        return path;
    }

    private static void AssertStillFifo(string path) =>
        Assert.True(OutputFile.GetKind(path) == FileKind.Fifo, $"{path} should still be a FIFO");

    private const string FifoArgument = "{fifo}";

    public static TheoryData<string[], string> FifoCases() => new()
    {
        { ["train", "--epochs", "1", "--out", FifoArgument], "--out" },
        { ["train", "--epochs", "1", "--metrics", FifoArgument], "--metrics" },
        { ["train", "--epochs", "1", "--plot", FifoArgument], "--plot" },
        { ["gallery", "--out", FifoArgument], "--out" },
        { ["evaluate", "--model", "missing.safetensors", "--plot", FifoArgument], "--plot" },
        { ["finetune", "--model", "missing.safetensors", "--epochs", "1", "--out", FifoArgument], "--out" },
    };

    [Theory]
    [MemberData(nameof(FifoCases))]
    public void FifoOutputIsRejectedBeforeWork(string[] command, string option)
    {
        string fifo = MakeFifo("output");
        var args = command.Select(arg => arg == FifoArgument ? fifo : arg).Concat(["--data", TestData.DigitsMatPath]);
        var result = CliRunner.Run(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.Contains(option, lines[0]);
        Assert.Contains("FIFO", lines[0]);
        Assert.Contains(fifo, lines[0]);
        Assert.DoesNotContain("epoch", result.StandardOutput);
        AssertStillFifo(fifo);
    }

    [Fact]
    public void LinkToFifoIsRejected()
    {
        string fifo = MakeFifo("pipe");
        string link = Path.Combine(_folder.Path, "link.json");
        File.CreateSymbolicLink(link, fifo);

        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--epochs", "1", "--metrics", link);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("FIFO", result.StandardError);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        AssertStillFifo(fifo);
    }

    [Fact]
    public void SymlinkOutputKeepsLinkAndWritesTarget()
    {
        string target = _folder.Write("model-target.safetensors", "old"u8.ToArray());
        string link = Path.Combine(_folder.Path, "model.safetensors");
        File.CreateSymbolicLink(link, "model-target.safetensors");
        string metricsLink = Path.Combine(_folder.Path, "metrics.json");
        File.CreateSymbolicLink(metricsLink, "metrics-target.json");

        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--epochs", "1", "--hidden", "10",
            "--batch-size", "32", "--quiet", "--out", link, "--metrics", metricsLink);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("model-target.safetensors", new FileInfo(link).LinkTarget);
        Assert.True(new FileInfo(target).Length > 1000, "the link target should hold the model");
        Assert.NotNull(ModelFile.Load(link));
        Assert.Equal("metrics-target.json", new FileInfo(metricsLink).LinkTarget);
        Assert.Contains("test_accuracy", File.ReadAllText(Path.Combine(_folder.Path, "metrics-target.json")));
    }

    [Fact]
    public void AtomicWriterRejectsFifo()
    {
        string fifo = MakeFifo("writer");
        var error = Assert.Throws<IOException>(() => AtomicFileWriter.Write(fifo, stream => stream.WriteByte(1)));
        Assert.Contains("FIFO", error.Message);
        AssertStillFifo(fifo);
        Assert.Single(Directory.GetFileSystemEntries(_folder.Path));
    }

    [Fact]
    public void AtomicWriterFollowsSymlink()
    {
        string target = _folder.Write("target.bin", [0]);
        string link = Path.Combine(_folder.Path, "link.bin");
        File.CreateSymbolicLink(link, target);

        AtomicFileWriter.Write(link, stream => stream.Write([1, 2, 3]));

        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(target));
    }

    [Fact]
    public void FullDiskErrorNamesTarget()
    {
        // A full disk reaches the writer as an IOException whose HResult is ENOSPC and whose
        // message names the temporary file. The error must name the file the user asked for.
        const int NoSpace = 28;
        string target = _folder.Write("model.bin", [7, 8, 9]);

        var error = Assert.Throws<IOException>(() => AtomicFileWriter.Write(target, stream =>
        {
            stream.Write([1, 2]);
            throw new IOException($"No space left on device : '{target}.123.abc.tmp'", NoSpace);
        }));

        Assert.Equal($"cannot write {target} (no space left on the device), and it was left as it was; free some space or choose another location", error.Message);
        Assert.Equal(new byte[] { 7, 8, 9 }, File.ReadAllBytes(target));
        Assert.Single(Directory.GetFileSystemEntries(_folder.Path));
    }

    [Fact]
    public void SameFileSeesLinks()
    {
        string file = Path.Combine(_folder.Path, "data.mat");
        File.WriteAllBytes(file, [1, 2, 3]);
        string symbolic = Path.Combine(_folder.Path, "symbolic.mat");
        File.CreateSymbolicLink(symbolic, file);
        string hard = Path.Combine(_folder.Path, "hard.mat");
        using (var process = Process.Start("ln", [file, hard]) ?? throw new InvalidOperationException("could not start ln"))
        {
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"ln {file} {hard} failed");
        }
        string other = Path.Combine(_folder.Path, "other.mat");
        File.WriteAllBytes(other, [1, 2, 3]);

        Assert.True(OutputFile.SameFile(file, symbolic));
        Assert.True(OutputFile.SameFile(hard, file));
        Assert.True(OutputFile.SameFile(file, Path.Combine(_folder.Path, ".", "data.mat")));
        Assert.False(OutputFile.SameFile(file, other));
        Assert.False(OutputFile.SameFile(file, Path.Combine(_folder.Path, "missing.mat")));
    }
}
