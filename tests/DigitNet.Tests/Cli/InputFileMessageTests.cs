using System.Runtime.Versioning;
using DigitNet.Cli;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Cli;

/// <summary>
/// Errors for input files. Every option, variable and argument that names an input file reports a
/// missing, an unreadable and an empty file in the same words. Predict names the format of a
/// non-image file that <c>FileSignature</c> recognises, as the model and data readers do, and so do
/// the readers of configuration files for a file that is not JSON.
/// </summary>
public sealed class InputFileMessageTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    /// <summary>A valid model of 4x4 inputs, enough for predict to reach the image files.</summary>
    private static string TinyModelPath => Path.Combine(TestData.RepositoryRoot, "tests", "fixtures", "tiny_model.safetensors");

    private const string DataKind = "a MAT-file (a data set)";
    private const string ModelKind = "a safetensors model file";
    private const string ImageKind = "a PNG, JPEG, BMP, GIF or WebP image";

    public void Dispose() => _folder.Dispose();

    /// <summary>
    /// Input files of the commands, by name: the command, the label that the message names the file
    /// by, the expected file that the empty-file message names, and the command line for an input path.
    /// </summary>
    private static readonly Dictionary<string, (string Command, string Label, string Expected, Func<string, string[]> Arguments)> Inputs = new()
    {
        ["train --data"] = ("train", "--data", DataKind, path => ["train", "--data", path]),
        ["evaluate --data"] = ("evaluate", "--data", DataKind, path => ["evaluate", "--model", TinyModelPath, "--data", path]),
        ["gallery --data"] = ("gallery", "--data", DataKind, path => ["gallery", "--data", path, "--out", "unused.png"]),
        ["train $DIGITNET_DATA"] = ("train", "$DIGITNET_DATA", DataKind, _ => ["train"]),
        ["evaluate --model"] = ("evaluate", "--model", ModelKind, path => ["evaluate", "--model", path, "--data", TestData.DigitsMatPath]),
        ["predict --model"] = ("predict", "--model", ModelKind, path => ["predict", "--model", path, "unused.png"]),
        ["finetune --model"] = ("finetune", "--model", ModelKind, path => ["finetune", "--model", path, "--data", TestData.DigitsMatPath, "--out", "unused.safetensors"]),
        ["predict image"] = ("predict", "image", ImageKind, path => ["predict", "--model", TinyModelPath, path]),
        ["train --config"] = ("train", "--config", "a JSON file of training settings", path => ["train", "--config", path]),
        ["sweep --config"] = ("sweep", "--config", "a JSON sweep configuration", path => ["sweep", "--config", path]),
    };

    public static TheoryData<string> InputNames() => [.. Inputs.Keys];

    /// <summary>Runs the command of input <paramref name="name"/> on <paramref name="path"/> in the temporary folder.</summary>
    private CliResult RunWithInput(string name, string path)
    {
        var input = Inputs[name];
        var environment = input.Label == "$DIGITNET_DATA" ? new Dictionary<string, string?> { ["DIGITNET_DATA"] = path } : null;
        return CliRunner.Run(input.Arguments(path), workingDirectory: _folder.Path, environment: environment);
    }

    private static void AssertOneError(CliResult result, string command, string message)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2\n{result}");
        Assert.Equal($"digitnet {command}: error: {message}\n", result.StandardError);
    }

    [Theory]
    [MemberData(nameof(InputNames))]
    public void MissingInputFileMessage(string name)
    {
        var (command, label, _, _) = Inputs[name];
        string path = Path.Combine(_folder.Path, "missing.file");

        var result = RunWithInput(name, path);

        AssertOneError(result, command, $"{label}: file not found: {path}; check the path");
    }

    [Theory]
    [MemberData(nameof(InputNames))]
    public void EmptyInputFileMessage(string name)
    {
        var (command, label, expected, _) = Inputs[name];
        string path = _folder.Write("empty.file", []);

        var result = RunWithInput(name, path);

        AssertOneError(result, command, $"{label}: file is empty (0 bytes): {path}; give the path of {expected}");
    }

    [Fact]
    public void PermissionDeniedMessages()
    {
        Assert.Equal("--data: permission denied: d/digits.mat; make the file readable",
            FileChecks.PermissionDenied("--data", "d/digits.mat"));
        Assert.Equal("image: permission denied: d/one.png; give search (x) permission on every folder in the path",
            FileChecks.PermissionDenied("image", "d/one.png", folderDeniesSearch: true));
    }

    /// <summary>Runs the command of input <paramref name="name"/> on <paramref name="path"/> with file permissions in force, as a user who is not root.</summary>
    private CliResult RunWithInputAsUser(string name, string path)
    {
        var input = Inputs[name];
        var environment = input.Label == "$DIGITNET_DATA" ? new Dictionary<string, string?> { ["DIGITNET_DATA"] = path } : null;
        return CliRunner.RunWithFilePermissions(input.Arguments(path), workingDirectory: _folder.Path, environment: environment);
    }

    [SkippableTheory]
    [MemberData(nameof(InputNames))]
    [UnsupportedOSPlatform("windows")]
    public void UnreadableInputFileMessage(string name)
    {
        var (command, label, _, _) = Inputs[name];
        string path = _folder.Write("unreadable.file", "not empty"u8.ToArray());
        File.SetUnixFileMode(path, UnixFileMode.None);

        var result = RunWithInputAsUser(name, path);

        AssertOneError(result, command, $"{label}: permission denied: {path}; make the file readable");
    }

    [SkippableTheory]
    [MemberData(nameof(InputNames))]
    [UnsupportedOSPlatform("windows")]
    public void InputInClosedFolderMessage(string name)
    {
        var (command, label, _, _) = Inputs[name];
        string folder = Path.Combine(_folder.Path, "closed");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "input.file");
        File.WriteAllBytes(path, "not empty"u8.ToArray());
        File.SetUnixFileMode(folder, UnixFileMode.None);

        var result = RunWithInputAsUser(name, path);

        AssertOneError(result, command, $"{label}: permission denied: {path}; give search (x) permission on every folder in the path");
    }

    [Fact]
    public void EmptyDataFileThroughLinkMessage()
    {
        string target = _folder.Write("empty.mat", []);
        string link = Path.Combine(_folder.Path, "link.mat");
        File.CreateSymbolicLink(link, target);

        var result = CliRunner.Run("train", "--data", link);

        AssertOneError(result, "train", $"--data: file is empty (0 bytes): {link}; give the path of {DataKind}");
    }

    /// <summary>The first bytes of files of other formats than images, and the name predict gives each.</summary>
    public static TheoryData<string, string> OtherFormats() => new()
    {
        { "digits.mat", "a MAT-file (a data set)" },
        { "model.safetensors", "a safetensors model file" },
        { "images.gz", "a gzip file" },
        { "images.idx", "an IDX file (MNIST images or labels)" },
        { "data.h5", "an HDF5 file" },
        { "notes.txt", "a text file" },
    };

    /// <summary>
    /// Returns the path of a file in the format that <paramref name="name"/> names: a shared data or
    /// fixture file where one exists, otherwise a file written to the temporary folder.
    /// </summary>
    private string WriteOtherFormat(string name) => name switch
    {
        "digits.mat" => TestData.DigitsMatPath,
        "model.safetensors" => TinyModelPath,
        "images.gz" => TestData.MnistTestImagesPath,
        "images.idx" => _folder.Write(name, [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28, .. new byte[28 * 28]]),
        "data.h5" => _folder.Write(name, [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A, .. new byte[64]]),
        "notes.txt" => _folder.Write(name, "these are notes, not a picture\n"u8.ToArray()),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(OtherFormats))]
    public void PredictNamesOtherFormat(string name, string format)
    {
        string path = WriteOtherFormat(name);

        var result = CliRunner.Run("predict", "--model", TinyModelPath, path);

        AssertOneError(result, "predict", $"{path}: this is {format}, not an image; expected a PNG, JPEG, BMP, GIF or WebP file");
    }

    /// <summary>The commands that read a JSON configuration file given with --config.</summary>
    private static readonly string[] ConfigCommands = ["train", "finetune", "gallery", "sweep"];

    /// <summary>Every command that reads --config, with every non-text format of <see cref="OtherFormats"/>.</summary>
    public static TheoryData<string, string, string> ConfigOtherFormats()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (string command in ConfigCommands)
        {
            foreach (var row in OtherFormats())
            {
                if ((string)row[0] != "notes.txt")
                    cases.Add(command, (string)row[0], (string)row[1]);
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(ConfigOtherFormats))]
    public void ConfigNamesOtherFormat(string command, string name, string format)
    {
        string path = WriteOtherFormat(name);
        string[] arguments = command switch
        {
            "finetune" => ["finetune", "--model", TinyModelPath, "--out", "unused.safetensors", "--config", path],
            "gallery" => ["gallery", "--out", "unused.png", "--config", path],
            "sweep" => ["sweep", "--out", "unused", "--config", path],
            _ => [command, "--config", path],
        };

        var result = CliRunner.Run(arguments, workingDirectory: _folder.Path);

        AssertOneError(result, command, $"{path}: this is {format}, not a JSON file; check which file is the configuration");
    }

    [Theory]
    [InlineData("train")]
    [InlineData("sweep")]
    public void TextConfigIsInvalidJson(string command)
    {
        string path = _folder.Write("settings.txt", "epochs = 20\n"u8.ToArray());

        var result = CliRunner.Run([command, "--config", path, "--out", "unused"], workingDirectory: _folder.Path);

        AssertOneError(result, command, $"{path}: invalid JSON at line 1, position 1; check the syntax there");
    }

    [Fact]
    public void PredictUnknownFormatIsUnrecognised()
    {
        string path = _folder.Write("noise.png", [0x00, 0xFF, 0x10, 0x80, 0x7F, 0x01, 0xFE, 0x02, 0x03, 0x90, 0x00, 0x00]);

        var result = CliRunner.Run("predict", "--model", TinyModelPath, path);

        AssertOneError(result, "predict", $"{path}: not a recognised image; expected a PNG, JPEG, BMP, GIF or WebP file");
    }
}
