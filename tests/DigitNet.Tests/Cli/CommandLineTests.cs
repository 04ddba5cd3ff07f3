using DigitNet.Cli;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

public sealed class CommandLineTests
{
    private static readonly HashSet<string> Flags = ["quiet"];

    [Fact]
    public void OptionBeforeOptionHasNoValue()
    {
        var line = CommandLine.Parse(["--out", "--quiet"], Flags);

        var error = Assert.Throws<UsageException>(() => line.Take("out"));
        Assert.StartsWith("option --out needs a value", error.Message);
        Assert.True(line.TakeFlag("quiet"));
    }

    [Fact]
    public void EqualsSignKeepsDashedValue()
    {
        var line = CommandLine.Parse(["--out=--quiet"], Flags);

        Assert.Equal("--quiet", line.Take("out"));
    }

    [Fact]
    public void NegativeNumberIsAValue()
    {
        var line = CommandLine.Parse(["--lr", "-0.5"], Flags);

        Assert.Equal("-0.5", line.Take("lr"));
    }

    [Theory]
    [InlineData("--frob", "--model", "m.safetensors")]
    [InlineData("--model", "m.safetensors", "--frob")]
    public void UnknownOptionKeepsNextOption(params string[] args)
    {
        var line = CommandLine.Parse(args, Flags);

        Assert.Equal("m.safetensors", line.Take("model"));
        var error = Assert.Throws<UsageException>(() => line.RejectRemaining("evaluate", []));
        Assert.StartsWith("unknown option --frob", error.Message);
    }

    [Fact]
    public void DoubleDashEndsOptions()
    {
        var line = CommandLine.Parse(["--model", "m.safetensors", "--", "--odd name.png", "b.png"], Flags);

        Assert.Equal("m.safetensors", line.Take("model"));
        Assert.Equal(["--odd name.png", "b.png"], line.Positionals);
        line.RejectRemaining("predict", []);
    }

    [Fact]
    public void OptionBeforeDoubleDashHasNoValue()
    {
        var line = CommandLine.Parse(["--model", "--", "a.png"], Flags);

        Assert.Throws<UsageException>(() => line.Take("model"));
        Assert.Equal(["a.png"], line.Positionals);
    }

    [Fact]
    public void EmptyPathIsRejected()
    {
        var line = CommandLine.Parse(["--out", "", "--hidden", ""], Flags);

        var error = Assert.Throws<UsageException>(() => line.TakePath("out"));
        Assert.Equal("--out: the path is empty; give the path of a file", error.Message);
        Assert.Equal("", line.Take("hidden"));
    }

    [Theory]
    [InlineData("help", "train")]
    [InlineData("train", "-h")]
    public void HelpFormsShowCommandHelp(string first, string second)
    {
        var result = CliRunner.Run([first, second]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("usage: digitnet train [options]", result.StandardOutput);
    }

    [Fact]
    public void EmptyOutPathFailsBeforeTraining()
    {
        var result = CliRunner.Run(["train", "--epochs", "1", "--out", ""]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("digitnet train: error: --out: the path is empty; give the path of a file\n", result.StandardError);
    }
}
