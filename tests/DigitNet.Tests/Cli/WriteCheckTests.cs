using DigitNet.Cli;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>
/// <see cref="FileChecks.CheckWritable"/> on folders where no file can be created. The message
/// gives the reason in plain words, not the .NET exception text that names the hidden probe file.
/// </summary>
public sealed class WriteCheckTests
{
    private const string ProbeName = ".digitnet-write-test";

    [Theory]
    [InlineData("curves.jpg", "--plot", "curves.png", "--plot: curves.jpg ends in .jpg, but DigitNet draws PNG images; name the file curves.png")]
    [InlineData("digits.svg", "--out", "gallery.png", "--out: digits.svg ends in .svg, but DigitNet draws PNG images; name the file digits.png")]
    [InlineData("model.png", "--out", "model.safetensors", "--out: model.png ends in .png, but --out writes a .safetensors file; name the file model.safetensors")]
    [InlineData("digits.mat", "--metrics", "metrics.json", "--metrics: digits.mat ends in .mat, but --metrics writes a .json file; name the file digits.json")]
    public void OtherFormatNameIsRejected(string path, string option, string exampleName, string message)
    {
        var error = Assert.Throws<UsageException>(() => FileChecks.CheckWritable(path, option, exampleName));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("curves.PNG", "curves.png")]
    [InlineData("curves", "curves.png")]
    [InlineData("model.bin", "model.safetensors")]
    public void AcceptedOutputNames(string name, string exampleName)
    {
        using var folder = new TempDirectory();

        FileChecks.CheckWritable(Path.Combine(folder.Path, name), "--out", exampleName);
    }

    [Fact]
    public void ProcFolderIsNamedSpecial()
    {
        var error = Assert.Throws<UsageException>(() => FileChecks.CheckWritable("/proc/x.safetensors", "--out", "model.safetensors"));

        Assert.Equal(
            "--out: cannot write to folder /proc (the folder does not accept new files, as in /proc or another special file system); choose another location",
            error.Message);
    }

    [Fact]
    public void SysFolderGivesReasonWithoutProbe()
    {
        // Creating a file in /sys fails with EACCES even for root on Linux, or with EROFS where /sys is mounted read-only.
        var error = Assert.Throws<UsageException>(() => FileChecks.CheckWritable("/sys/x.json", "--metrics", "metrics.json"));

        Assert.StartsWith("--metrics: cannot write to folder /sys (", error.Message);
        Assert.True(error.Message.Contains("(permission denied)") || error.Message.Contains("(read-only file system)"), error.Message);
        Assert.DoesNotContain(ProbeName, error.Message);
    }

    [Fact]
    public void TrainOutInProcFailsWithPlainReason()
    {
        var result = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--epochs", "1", "--out", "/proc/x.safetensors");

        Assert.True(result.ExitCode == 2, result.ToString());
        string error = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("digitnet train: error: --out: cannot write to folder /proc (the folder does not accept new files", error);
        Assert.DoesNotContain(ProbeName, error);
        Assert.DoesNotContain("Could not find file", error);
        Assert.DoesNotContain("epoch", result.StandardOutput);
    }
}
