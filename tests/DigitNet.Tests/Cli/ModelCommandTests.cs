using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using DigitNet.Cli.Imaging;
using DigitNet.Data;
using DigitNet.Models;
using DigitNet.Serialization;
using DigitNet.Tensors;
using DigitNet.Tests.Data;
using DigitNet.Tests.Serialization;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;
using SkiaSharp;

namespace DigitNet.Tests.Cli;

/// <summary>A small trained model and the data, shared by the tests of the model commands.</summary>
public sealed class TrainedModelFixture : IDisposable
{
    public TrainedModelFixture()
    {
        Splits = DigitsMat.Load(TestData.DigitsMatPath);
        var options = new TrainingOptions { Hidden = [100], Activation = "relu", Loss = "cross-entropy", BatchSize = 32, LearningRate = 0.05, Momentum = 0.9, Epochs = 8 };
        var outcome = TrainingRun.Run(options, Splits);
        ModelPath = Path.Combine(_folder.Path, "trained.safetensors");
        ModelFile.Save(ModelPath, outcome.Network, outcome.Preprocessing, outcome.Loss.Name, DigitsMat.ClassNames);
        Model = ModelFile.Load(ModelPath);
    }

    private readonly TempDirectory _folder = new();

    public DataSplits Splits { get; }
    public string ModelPath { get; }
    public LoadedModel Model { get; }

    public void Dispose() => _folder.Dispose();

    /// <summary>Writes sample <paramref name="index"/> of the test split as a 16x16 8-bit grayscale PNG, white ink on black.</summary>
    public string WriteTestPng(int index, string folder)
    {
        var sample = Splits.Test.Sample(index);
        using var bitmap = new SKBitmap(16, 16, SKColorType.Gray8, SKAlphaType.Opaque);
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 16; x++)
            {
                byte value = (byte)Math.Clamp(MathF.Round(sample[y * 16 + x]), 0, 255);
                bitmap.SetPixel(x, y, new SKColor(value, value, value));
            }
        }
        string path = Path.Combine(folder, $"test{index:D4}.png");
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }
}

public sealed class ModelCommandTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void PredictMatchesEvaluateOn200TestImages()
    {
        using var folder = new TempDirectory();
        var model = fixture.Model;
        var test = model.Preprocessing.Apply(fixture.Splits.Test);
        var expected = new int[test.Count];
        new Evaluator(model.Network, model.Loss).Evaluate(test, expected);

        int differences = 0;
        var input = new Tensor(new TensorShape(1, 1, 16, 16));
        for (int n = 0; n < 200; n++)
        {
            var pixels = DigitImage.LoadFramed(fixture.WriteTestPng(n, folder.Path), 16);
            pixels.CopyTo(input.Span);
            model.Preprocessing.Apply(input.Span);
            int predicted = Evaluator.ArgMax(model.Network.Forward(input, training: false).Span);
            if (predicted != expected[n]) differences++;
        }
        Assert.Equal(0, differences);
    }

    [Fact]
    public void PredictCommandPrintsDigitsAndProbabilities()
    {
        using var folder = new TempDirectory();
        string[] images = [fixture.WriteTestPng(0, folder.Path), fixture.WriteTestPng(1, folder.Path)];
        var result = CliRunner.Run(["predict", "--model", fixture.ModelPath, "--json", .. images]);
        Assert.True(result.ExitCode == 0, result.ToString());

        using var json = JsonDocument.Parse(result.StandardOutput);
        var predictions = json.RootElement.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(2, predictions.Count);
        foreach (var prediction in predictions)
        {
            var probabilities = prediction.GetProperty("probabilities").EnumerateArray().Select(p => p.GetDouble()).ToList();
            Assert.Equal(10, probabilities.Count);
            Assert.InRange(probabilities.Sum(), 0.999, 1.001);
            Assert.Equal(probabilities.IndexOf(probabilities.Max()), prediction.GetProperty("index").GetInt32());
        }

        var text = CliRunner.Run("predict", "--model", fixture.ModelPath, images[0]);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.StartsWith($"{images[0]}: ", text.StandardOutput);
        Assert.Contains(" 9:", text.StandardOutput);
    }

    [Fact]
    public void EvaluateJsonHasMetricsAndConfusion()
    {
        using var folder = new TempDirectory();
        string plot = Path.Combine(folder.Path, "eval.png");
        var result = CliRunner.Run("evaluate", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath, "--json", "--plot", plot, "--mistakes", "5");
        Assert.True(result.ExitCode == 0, result.ToString());

        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        var model = fixture.Model;
        var expected = new Evaluator(model.Network, model.Loss).Evaluate(model.Preprocessing.Apply(fixture.Splits.Test));
        Assert.Equal(expected.Accuracy, root.GetProperty("accuracy").GetDouble());
        Assert.Equal(expected.Loss, root.GetProperty("loss").GetDouble(), 12);

        var confusion = root.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        Assert.Equal(10, confusion.Length);
        Assert.All(confusion, row => Assert.Equal(10, row.Length));
        for (int digit = 0; digit < 10; digit++)
            Assert.Equal(fixture.Splits.Test.Labels.Count(l => l == digit), confusion[digit].Sum());
        Assert.Equal(expected.Correct, Enumerable.Range(0, 10).Sum(d => confusion[d][d]));
        Assert.Equal(10, root.GetProperty("per_class").GetArrayLength());
        Assert.Equal(5, root.GetProperty("mistakes").GetArrayLength());

        using var image = SKBitmap.Decode(plot);
        Assert.NotNull(image);
        Assert.True(image.Width > 300, $"plot is only {image.Width} pixels wide");
        Assert.True(image.Height > 300, $"plot is only {image.Height} pixels high");
    }

    [Fact]
    public void EvaluateTextListsSplitAndMatrix()
    {
        var result = CliRunner.Run("evaluate", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath, "--split", "valid");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("split valid: accuracy ", result.StandardOutput);
        Assert.Contains("confusion matrix (rows: true class, columns: predicted class)", result.StandardOutput);
        Assert.Contains("most confident mistakes", result.StandardOutput);
    }

    [Fact]
    public void FinetuneNoteNamesFinetune()
    {
        using var folder = new TempDirectory();
        string tuned = Path.Combine(folder.Path, "tuned.safetensors");

        var result = CliRunner.Run("finetune", "--model", fixture.ModelPath, "--data", TestData.DigitsMatPath,
            "--batch-size", "100000", "--epochs", "1", "--out", tuned);

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("digitnet finetune: note: --batch-size 100000 is larger than the 5000 training samples, so each epoch is one batch of all 5000", lines);
    }

    [Fact]
    public void TrainOutThenFinetuneKeepsFrozenWeights()
    {
        using var folder = new TempDirectory();
        string trained = Path.Combine(folder.Path, "a.safetensors");
        string tuned = Path.Combine(folder.Path, "b.safetensors");
        var train = CliRunner.Run("train", "--data", TestData.DigitsMatPath, "--hidden", "30,20", "--activation", "relu", "--loss", "cross-entropy",
            "--batch-size", "64", "--lr", "0.05", "--epochs", "2", "--patience", "1", "--quiet", "--out", trained);
        Assert.True(train.ExitCode == 0, train.ToString());

        var finetune = CliRunner.Run("finetune", "--model", trained, "--data", TestData.DigitsMatPath, "--epochs", "2", "--train-layers", "2", "--out", tuned);
        Assert.True(finetune.ExitCode == 0, finetune.ToString());
        Assert.Contains("trained layers: dense2, dense3", finetune.StandardOutput);
        Assert.Contains("before: test accuracy ", finetune.StandardOutput);
        Assert.Contains("after:  test accuracy ", finetune.StandardOutput);

        var before = ModelFile.Load(trained).Network;
        var after = ModelFile.Load(tuned).Network;
        Assert.True(before.FindParameter("dense1.weight")!.Value.SequenceEqual(after.FindParameter("dense1.weight")!.Value), "dense1.weight changed");
        Assert.True(before.FindParameter("dense1.bias")!.Value.SequenceEqual(after.FindParameter("dense1.bias")!.Value), "dense1.bias changed");

        var tooMany = CliRunner.Run("finetune", "--model", trained, "--data", TestData.DigitsMatPath, "--train-layers", "4", "--out", tuned);
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("has only 3 layers with parameters", tooMany.StandardError);
    }

    /// <summary>A model file with its header replaced, for the bad-file cases.</summary>
    private static byte[] WithHeader(string header, int dataBytes) => SafeTensorsBytes.Build(header, new byte[dataBytes]);

    public static TheoryData<string> BadModelCases() =>
        ["empty", "header-beyond-file", "header-2^63", "not-json", "unknown-dtype", "offsets-out-of-range", "overlapping", "missing-tensor", "wrong-shape"];

    private byte[] BadModel(string kind)
    {
        var network = new Network(Architecture.Parse(new TensorShape(1, 16, 16), "dense 4, relu, dense 10"));
        var stream = new MemoryStream();
        ModelFile.Save(stream, network, Preprocessing.Create(PreprocessingKind.Scale255), "mse", DigitsMat.ClassNames);
        byte[] good = stream.ToArray();
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(good);
        string header = Encoding.UTF8.GetString(good, 8, headerLength).TrimEnd(' ');
        byte[] data = good[(8 + headerLength)..];

        return kind switch
        {
            "empty" => [],
            "header-beyond-file" => SafeTensorsBytes.Build(header, data, declaredLength: (ulong)good.Length),
            "header-2^63" => SafeTensorsBytes.Build(header, data, declaredLength: 1UL << 63),
            "not-json" => SafeTensorsBytes.Build("{this is not json}", data),
            "unknown-dtype" => SafeTensorsBytes.Build(header.Replace("\"dtype\":\"F32\"", "\"dtype\":\"Q7\""), data),
            "offsets-out-of-range" => SafeTensorsBytes.Build(header, data[..^4]),
            "overlapping" => SafeTensorsBytes.Build(header.Replace("\"data_offsets\":[4096,4112]", "\"data_offsets\":[4092,4108]"), data),
            "missing-tensor" => SafeTensorsBytes.Build(header.Replace("\"dense2.bias\"", "\"dense2.bias_\""), data),
            "wrong-shape" => SafeTensorsBytes.Build(header.Replace("\"shape\":[4,256]", "\"shape\":[256,4]"), data),
            _ => throw new ArgumentException(kind),
        };
    }

    [Theory]
    [MemberData(nameof(BadModelCases))]
    public void BadModelFileExitsWithCode2(string kind)
    {
        using var folder = new TempDirectory();
        string model = folder.Write("bad.safetensors", BadModel(kind));
        string image = fixture.WriteTestPng(0, folder.Path);

        var result = CliRunner.Run("predict", "--model", model, image);
        Assert.True(result.ExitCode == 2, $"{kind}: {result}");
        Assert.StartsWith("digitnet predict: error: ", result.StandardError);
        Assert.Single(result.StandardError.TrimEnd('\n').Split('\n'));
        Assert.Contains(model, result.StandardError);
    }

    [Fact]
    public void NonImageExitsWithCode2()
    {
        using var folder = new TempDirectory();
        string text = folder.Write("notes.png", Encoding.UTF8.GetBytes("this is a text file, not a picture\n"));
        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, text);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"digitnet predict: error: {text}: this is a text file, not an image; expected a PNG, JPEG, BMP, GIF or WebP file\n", result.StandardError);
    }

    [Fact]
    public void DashedImageNameGetsHint()
    {
        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, "--odd-name.png");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("unknown option --odd-name.png; for an image whose name starts with --, put -- before it", result.StandardError);
    }

    [Fact]
    public void EmptyImageIsCalledEmpty()
    {
        using var folder = new TempDirectory();
        string empty = folder.Write("empty.png", []);
        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, empty);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"digitnet predict: error: image: file is empty (0 bytes): {empty}; give the path of a PNG, JPEG, BMP, GIF or WebP image\n", result.StandardError);
    }

    /// <summary>Encodes sample 0 of the test split in <paramref name="format"/>, the way a user's image file would look.</summary>
    private byte[] EncodeTestImage(SKEncodedImageFormat format)
    {
        using var folder = new TempDirectory();
        byte[] png = File.ReadAllBytes(fixture.WriteTestPng(0, folder.Path));
        if (format == SKEncodedImageFormat.Png) return png;
        using var bitmap = SKBitmap.Decode(png);
        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }

    [Theory]
    [InlineData("png", 100)]
    [InlineData("png", 60)]
    [InlineData("png", 20)]
    [InlineData("jpeg", 33)]
    [InlineData("jpeg", 80)]
    public void TruncatedImageExitsWithCode2(string format, int percentKept)
    {
        using var folder = new TempDirectory();
        byte[] whole = EncodeTestImage(format == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg);
        string path = folder.Write($"cut.{format}", whole[..(whole.Length * percentKept / 100)]);

        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, path);

        if (percentKept == 100)
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            return;
        }
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.StandardError.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"digitnet predict: error: {path}: the image is truncated or damaged (", result.StandardError);
    }

    [Fact]
    public void ModelFolderIsNamedAsFolder()
    {
        using var folder = new TempDirectory();
        string image = Path.Combine(folder.Path, "unused.png");
        var result = CliRunner.Run("predict", "--model", folder.Path, image);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{folder.Path} is a folder", result.StandardError);
        Assert.DoesNotContain("denied", result.StandardError);
    }

    [Fact]
    public void ImageFolderIsNamedAsFolder()
    {
        using var folder = new TempDirectory();
        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, folder.Path);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{folder.Path} is a folder", result.StandardError);
    }

    [Fact]
    public void HugeDeclaredImageExitsWithCode2()
    {
        using var folder = new TempDirectory();
        string huge = folder.Write("huge.png", PngDeclaring(100_000, 100_000));
        var result = CliRunner.Run("predict", "--model", fixture.ModelPath, huge);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("declares 100000x100000 pixels; the limit is 50,000,000 pixels", result.StandardError);
    }

    [Fact]
    public void HelpListsSamePredictFormats()
    {
        const string Formats = "PNG, JPEG, BMP, GIF";
        var overview = CliRunner.Run("--help");
        var predictHelp = CliRunner.Run("predict", "--help");
        Assert.Contains(Formats, predictHelp.StandardOutput);
        Assert.Contains(Formats, overview.StandardOutput);
        Assert.Contains("WebP", overview.StandardOutput);
    }

    [Fact]
    public void NoCommandPrintsUsageToStderr()
    {
        var result = CliRunner.Run();
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("usage: digitnet COMMAND", result.StandardError);
        Assert.Equal("", result.StandardOutput);

        var help = CliRunner.Run("--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("usage: digitnet COMMAND", help.StandardOutput);
    }

    [Fact]
    public void MissingModelOptionExitsWithCode2()
    {
        var result = CliRunner.Run("evaluate", "--data", TestData.DigitsMatPath);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("missing required option --model", result.StandardError);
    }

    /// <summary>A PNG whose header declares <paramref name="width"/> x <paramref name="height"/> 8-bit gray pixels, followed by one tiny IDAT chunk.</summary>
    private static byte[] PngDeclaring(int width, int height)
    {
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 0; // grayscale
        WriteChunk(png, "IHDR", header);

        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) zlib.Write(new byte[64]);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        png.Write(crc);
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
