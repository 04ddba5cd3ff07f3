using System.Text;
using System.Text.Json;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;
using SkiaSharp;

namespace DigitNet.Tests.Cli;

/// <summary><c>digitnet predict</c> with several files, some of which cannot be classified.</summary>
public sealed class PredictBatchTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>, IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string WriteTestPng(int index) => fixture.WriteTestPng(index, _folder.Path);

    /// <summary>Writes a 40x40 PNG of one grey level, which has no digit to frame.</summary>
    private string WriteBlankPng()
    {
        using var bitmap = new SKBitmap(40, 40, SKColorType.Gray8, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(200, 200, 200));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return _folder.Write("blank.png", data.ToArray());
    }

    private string WriteTextFile() => _folder.Write("notes.png", Encoding.UTF8.GetBytes("a text file, not a picture\n"));

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void BadFilesDoNotLoseGoodResults()
    {
        string first = WriteTestPng(0);
        string missing = Path.Combine(_folder.Path, "missing.png");
        string notImage = WriteTextFile();
        string blank = WriteBlankPng();
        string second = WriteTestPng(1);

        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, first, missing, notImage, blank, second);

        Assert.True(result.ExitCode == 2, result.ToString());
        string[] output = Lines(result.StandardOutput);
        Assert.True(output.Length == 2, result.ToString());
        Assert.StartsWith($"{first}: ", output[0]);
        Assert.StartsWith($"{second}: ", output[1]);

        string[] errors = Lines(result.StandardError);
        Assert.True(errors.Length == 3, result.ToString());
        Assert.Equal($"digitnet predict: error: image: file not found: {missing}; check the path", errors[0]);
        Assert.StartsWith($"digitnet predict: error: {notImage}: this is a text file, not an image", errors[1]);
        Assert.StartsWith($"digitnet predict: error: {blank}: the image is blank", errors[2]);
    }

    [Fact]
    public void AllGoodFilesExitWithZero()
    {
        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, WriteTestPng(0), WriteTestPng(1));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, Lines(result.StandardOutput).Length);
        Assert.Equal("", result.StandardError);
    }

    [Fact]
    public void JsonListsFailedFileWithError()
    {
        string good = WriteTestPng(0);
        string notImage = WriteTextFile();

        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, "--json", "--show", notImage, good);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(Lines(result.StandardError));
        using var json = JsonDocument.Parse(result.StandardOutput);
        var predictions = json.RootElement.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(2, predictions.Count);

        var failed = predictions[0];
        Assert.Equal(notImage, failed.GetProperty("file").GetString());
        Assert.StartsWith($"{notImage}: this is a text file, not an image", failed.GetProperty("error").GetString());
        Assert.Equal(["file", "error"], failed.EnumerateObject().Select(p => p.Name));

        var classified = predictions[1];
        Assert.Equal(good, classified.GetProperty("file").GetString());
        Assert.False(classified.TryGetProperty("error", out _));
        Assert.Equal(10, classified.GetProperty("probabilities").GetArrayLength());
        Assert.Equal(256, classified.GetProperty("input").GetArrayLength());
    }

    [Fact]
    public void JsonWithOnlyFailedFilesIsWellFormed()
    {
        string missing = Path.Combine(_folder.Path, "missing.png");

        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, "--json", missing);

        Assert.True(result.ExitCode == 2, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        var prediction = Assert.Single(json.RootElement.GetProperty("predictions").EnumerateArray());
        Assert.Equal($"image: file not found: {missing}; check the path", prediction.GetProperty("error").GetString());
    }

    [Fact]
    public void BadModelStopsBeforeAnyImage()
    {
        string model = Path.Combine(_folder.Path, "missing.safetensors");
        string missingImage = Path.Combine(_folder.Path, "missing.png");

        var result = CliRunner.Run("predict", "--model", model, WriteTestPng(0), missingImage);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.StandardOutput);
        string error = Assert.Single(Lines(result.StandardError));
        Assert.Contains(model, error);
        Assert.DoesNotContain(missingImage, error);
    }

    [Fact]
    public void UnknownOptionStopsBeforeAnyImage()
    {
        string missingImage = Path.Combine(_folder.Path, "missing.png");

        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, "--colour", WriteTestPng(0), missingImage);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.StandardOutput);
        string error = Assert.Single(Lines(result.StandardError));
        Assert.Contains("--colour", error);
    }

    [Fact]
    public void HelpSaysOtherFilesContinue()
    {
        var result = CliRunner.Run("predict", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("the other files are still classified", result.StandardOutput.ReplaceLineEndings(" "));
    }

    [Fact]
    public void HelpNamesUnchangedInputSize()
    {
        var result = CliRunner.Run("predict", "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("An image of the model's input size (16x16) with light ink on a dark background is used as is.", result.StandardOutput);
    }
}
