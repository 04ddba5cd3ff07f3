using DigitNet.Data;
using DigitNet.Data.Formats;
using DigitNet.Serialization;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Cli;

/// <summary>
/// A batch size that leaves a training batch of 1 for a 1-D batch normalisation is an input
/// error of train and finetune. They exit with code 2 and print one line that names the layer,
/// the batch size and the sample count, and an existing output file stays as it was.
/// </summary>
public sealed class BatchNormBatchSizeTests
{
    private const string Layers = "dense 8, batchnorm, relu, dense 10";
    private static readonly byte[] OldModel = "an older model file"u8.ToArray();

    [Fact]
    public void TrainRejectsDefaultBatchOfOne()
    {
        using var folder = new TempDirectory();
        string data = SmallDigits.Create().Save(folder.Path, "small.mat");
        string model = folder.Write("model.safetensors", OldModel);

        var result = CliRunner.Run("train", "--data", data, "--layers", Layers, "--loss", "cross-entropy", "--out", model);

        AssertInputError(result,
            "digitnet train: error: --batch-size 1: layer batchnorm1 (batchnorm 1d 8) needs at least 2 samples in every training batch "
            + "to estimate the batch variance, but the 20 training samples are split into batches of 1; "
            + "choose a batch size of at least 2 that does not leave a last batch of 1, such as 2");
        Assert.Equal(OldModel, File.ReadAllBytes(model));
    }

    [Theory]
    [InlineData("19", "", "the 20 training samples in batches of 19 leave a last batch of 1", "such as 18 or 20")]
    [InlineData("3", "90", "the 40 training samples (20 plus 20 rotated copies) in batches of 3 leave a last batch of 1", "such as 2 or 4")]
    public void TrainRejectsLastBatchOfOne(string batchSize, string rotatedCopies, string problem, string suggestion)
    {
        using var folder = new TempDirectory();
        string data = SmallDigits.Create().Save(folder.Path, "small.mat");
        string model = folder.Write("model.safetensors", OldModel);
        var args = new List<string> { "train", "--data", data, "--layers", Layers, "--loss", "cross-entropy", "--batch-size", batchSize, "--out", model };
        if (rotatedCopies.Length > 0) args.AddRange(["--rotated-copies", rotatedCopies]);

        var result = CliRunner.Run(args);

        AssertInputError(result, $"--batch-size {batchSize}: layer batchnorm1 (batchnorm 1d 8)", problem, suggestion);
        Assert.Equal(OldModel, File.ReadAllBytes(model));
    }

    [Fact]
    public void TrainAccepts2dBatchNormBatchOfOne()
    {
        using var folder = new TempDirectory();
        string data = SmallDigits.Create().Save(folder.Path, "small.mat");
        string model = Path.Combine(folder.Path, "conv.safetensors");

        var result = CliRunner.Run("train", "--data", data, "--layers", "conv 2 3x3 pad=1, batchnorm, relu, maxpool 2, dense 10",
            "--loss", "cross-entropy", "--batch-size", "1", "--epochs", "1", "--quiet", "--out", model);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(model), $"{model} was not written\n{result}");
    }

    [Fact]
    public void FinetuneRejectsLastBatchOfOne()
    {
        using var folder = new TempDirectory();
        string data = SmallDigits.Create().Save(folder.Path, "small.mat");
        string trained = TrainBatchNormModel(data, folder.Path);
        string tuned = folder.Write("tuned.safetensors", OldModel);

        // Two trained layers include batchnorm1, which then needs the batch variance. A frozen one
        // would normalise with its running statistics and accept the last batch of 1.
        var result = CliRunner.Run("finetune", "--model", trained, "--data", data, "--batch-size", "19", "--train-layers", "2", "--out", tuned);

        AssertInputError(result,
            "digitnet finetune: error: --batch-size 19: layer batchnorm1 (batchnorm 1d 8)",
            "the 20 training samples in batches of 19 leave a last batch of 1",
            "such as 18 or 20");
        Assert.Equal(OldModel, File.ReadAllBytes(tuned));
    }

    [Fact]
    public void FinetuneAcceptsWorkingBatchSize()
    {
        using var folder = new TempDirectory();
        string data = SmallDigits.Create().Save(folder.Path, "small.mat");
        string trained = TrainBatchNormModel(data, folder.Path);
        string tuned = Path.Combine(folder.Path, "tuned.safetensors");

        var result = CliRunner.Run("finetune", "--model", trained, "--data", data, "--batch-size", "18", "--epochs", "1", "--quiet", "--out", tuned);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(tuned), $"{tuned} was not written\n{result}");
    }

    /// <summary>Asserts exit code 2, nothing on standard output and one line on standard error that contains every fragment.</summary>
    private static void AssertInputError(CliResult result, params string[] fragments)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2\n{result}");
        Assert.True(result.StandardOutput.Length == 0, $"expected no standard output\n{result}");
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on standard error\n{result}");
        foreach (string fragment in fragments)
            Assert.True(lines[0].Contains(fragment, StringComparison.Ordinal), $"standard error should contain '{fragment}'\n{result}");
    }

    /// <summary>Writes a model with a 1-D batch normalisation, trained for one epoch in batches of 4.</summary>
    private static string TrainBatchNormModel(string dataPath, string folder)
    {
        var options = new TrainingOptions { Layers = Layers, Loss = "cross-entropy", Init = "he", LearningRate = 0.01, BatchSize = 4, Epochs = 1, Threads = 1 };
        var outcome = TrainingRun.Run(options, DigitsMat.Load(dataPath));
        string path = Path.Combine(folder, "trained.safetensors");
        ModelFile.Save(path, outcome.Network, outcome.Preprocessing, outcome.Loss.Name, DigitsMat.ClassNames);
        return path;
    }
}
