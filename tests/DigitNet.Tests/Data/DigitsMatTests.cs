using System.Security.Cryptography;
using DigitNet.Data;
using DigitNet.Data.Formats;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Data;

public class DigitsMatTests
{
    private const string DigitsMatSha256 = "4dd617b10157025328080733ae91e0057111f74ee977d4dd7823d545923d00df";

    private static readonly Lazy<DataSplits> Splits = new(() => DigitsMat.Load(TestData.DigitsMatPath));

    [Fact]
    public void DigitsMat_Sha256MatchesPublishedValue()
    {
        using var stream = File.OpenRead(TestData.DigitsMatPath);
        string actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        Assert.Equal(DigitsMatSha256, actual);
    }

    [Fact]
    public void Load_SplitSizesAndShapes()
    {
        var splits = Splits.Value;

        Assert.Equal(("train", 5000), (splits.Train.Name, splits.Train.Count));
        Assert.Equal(("valid", 5000), (splits.Valid.Name, splits.Valid.Count));
        Assert.Equal(("test", 1000), (splits.Test.Name, splits.Test.Count));
        foreach (var split in new[] { splits.Train, splits.Valid, splits.Test })
        {
            Assert.Equal(new TensorShape(1, 16, 16), split.SampleShape);
            Assert.Equal(split.Count * 256, split.Features.Length);
            Assert.Equal(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], split.ClassNames);
        }
    }

    [Fact]
    public void Load_TrainingClassCounts()
    {
        // Published counts for labels 1..10; label 10 is the digit 0.
        int[] countsByLabel = [513, 497, 508, 480, 505, 507, 476, 473, 528, 513];
        var countsByDigit = new int[10];
        foreach (byte digit in Splits.Value.Train.Labels)
            countsByDigit[digit]++;

        for (int label = 1; label <= 10; label++)
        {
            int digit = label % 10;
            Assert.True(countsByLabel[label - 1] == countsByDigit[digit],
                $"label {label} (digit {digit}): expected {countsByLabel[label - 1]} samples, got {countsByDigit[digit]}");
        }
    }

    [Fact]
    public void Load_LabelTenBecomesDigitZero()
    {
        var raw = MatFile.Read(TestData.DigitsMatPath);
        foreach (var (split, name) in new[] { (Splits.Value.Train, "y"), (Splits.Value.Valid, "yvalid"), (Splits.Value.Test, "ytest") })
        {
            var labels = raw.Get(name);
            for (int i = 0; i < split.Count; i++)
            {
                int expected = labels.Data[i] == 10 ? 0 : (int)labels.Data[i];
                if (split.Labels[i] != expected)
                    Assert.Fail($"{name} row {i + 1}: raw label {labels.Data[i]} became digit {split.Labels[i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void Load_PixelsAreRawValues0To255()
    {
        var features = Splits.Value.Train.Features;
        Assert.Equal(0f, features.Min());
        Assert.Equal(255f, features.Max());
        Assert.All(features, value => Assert.Equal(MathF.Round(value), value));
    }

    [Fact]
    public void Load_PixelMappingTransposesEachRow()
    {
        // Pixel (r, c) of the upright image is element c * 16 + r of the row in X.
        var x = MatFile.Read(TestData.DigitsMatPath).Get("X");
        var train = Splits.Value.Train;
        foreach (int n in new[] { 0, 1, 2499, 4999 })
        {
            var sample = train.Sample(n);
            for (int r = 0; r < 16; r++)
            {
                for (int c = 0; c < 16; c++)
                {
                    if (sample[r * 16 + c] != (float)x[n, c * 16 + r])
                        Assert.Fail($"sample {n} pixel ({r}, {c}): got {sample[r * 16 + c]}, X[{n}, {c * 16 + r}] is {x[n, c * 16 + r]}");
                }
            }
        }
    }

    [Fact]
    public void Load_DigitOneIsUprightStripe()
    {
        // An upright 1 puts its ink in a few columns across all rows, so the ink per column
        // varies far more than the ink per row. A transposed image would show the opposite.
        var mean = MeanImage(Splits.Value.Train, digit: 1);
        double columnVariance = Variance(Enumerable.Range(0, 16).Select(c => Enumerable.Range(0, 16).Sum(r => mean[r, c])));
        double rowVariance = Variance(Enumerable.Range(0, 16).Select(r => Enumerable.Range(0, 16).Sum(c => mean[r, c])));

        Assert.True(columnVariance > 4 * rowVariance,
            $"mean image of digit 1: variance of ink per column {columnVariance:F0}, per row {rowVariance:F0}; expected a vertical stripe");
    }

    [Fact]
    public void Load_DigitSevenHasBarOnTop()
    {
        // The bar of a 7 is at the top, so an upright 7 has more ink in its top rows than in its
        // bottom rows. An image flipped upside down would have less.
        var mean = MeanImage(Splits.Value.Train, digit: 7);
        double top = 0, bottom = 0;
        for (int c = 0; c < 16; c++)
        {
            for (int r = 0; r < 5; r++) top += mean[r, c];
            for (int r = 11; r < 16; r++) bottom += mean[r, c];
        }

        Assert.True(top > 1.5 * bottom, $"mean image of digit 7: ink in rows 0-4 is {top:F0}, in rows 11-15 {bottom:F0}; expected the bar on top");
    }

    [Fact]
    public void Load_TruncatedCopiesRaiseDataFormatException()
    {
        byte[] original = File.ReadAllBytes(TestData.DigitsMatPath);
        using var temp = new TempDirectory();
        var offsets = new List<int> { 0, 1, 10, 64, 120, 127, 128, 129, 131, 135, 136, 137, 200, 1000, 5000, 100_000 };
        offsets.AddRange([original.Length / 3, original.Length / 2, original.Length - 1000, original.Length - 9, original.Length - 1]);
        offsets.AddRange(TopLevelElementOffsets(original));

        foreach (int length in offsets.Distinct())
        {
            string path = temp.Write($"digits-cut-at-{length}.mat", original[..length]);
            var error = LoadExpectingFailure(path);
            Assert.Contains($"digits-cut-at-{length}.mat", error.Message);
        }
    }

    [Fact]
    public void Load_FlippedBytesNeverRaiseOtherExceptions()
    {
        byte[] original = File.ReadAllBytes(TestData.DigitsMatPath);
        using var temp = new TempDirectory();
        var random = new Random(20240531);
        string path = Path.Combine(temp.Path, "digits-flipped.mat");

        for (int trial = 0; trial < 40; trial++)
        {
            byte[] damaged = (byte[])original.Clone();
            int offset = trial < 8 ? 128 + trial : random.Next(original.Length);
            damaged[offset] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(path, damaged);

            var error = LoadWithTimeout(path);
            if (error is not null)
                Assert.True(error is DataFormatException, $"byte {offset} flipped: expected DataFormatException, got {error.GetType().Name}: {error.Message}");
        }
    }

    [Fact]
    public void Load_MissingFileRaisesDataFormatException()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "absent-digits.mat");

        var error = Assert.Throws<DataFormatException>(() => DigitsMat.Load(path));

        Assert.Contains("absent-digits.mat", error.Message);
        Assert.Contains("not found", error.Message);
        Assert.IsType<FileNotFoundException>(error.InnerException);
    }

    public static TheoryData<string, string[]> BadDigitsFiles => new()
    {
        // case name, then the fragments the message must contain
        { "missing-y", ["variable 'y' not found", "X, Xvalid"] },
        { "missing-xtest", ["variable 'Xtest' not found"] },
        { "x-wrong-width", ["variable 'X'", "4x255", "Nx256"] },
        { "x-three-dims", ["variable 'X'", "4x16x16", "Nx256"] },
        { "y-row-vector", ["variable 'y'", "1x4", "Nx1"] },
        { "y-count-mismatch", ["variable 'yvalid'", "3 labels", "4 images"] },
        { "label-zero", ["variable 'y'", "row 3", "label 0", "1..10"] },
        { "label-eleven", ["variable 'ytest'", "row 2", "label 11", "1..10"] },
        { "label-fraction", ["variable 'yvalid'", "row 1", "label 2.5", "1..10"] },
        { "pixel-nan", ["variable 'Xvalid'", "row 2", "column 18", "NaN"] },
        { "pixel-infinite", ["variable 'X'", "row 4", "column 256", "Infinity"] },
        { "x-is-char", ["variable 'X'", "a char array"] },
    };

    [Theory]
    [MemberData(nameof(BadDigitsFiles))]
    public void Load_BadContentRaisesDataFormatException(string caseName, string[] fragments)
    {
        using var temp = new TempDirectory();
        string path = BuildDigitsFile(caseName).Save(temp.Path, $"{caseName}.mat");

        var error = Assert.Throws<DataFormatException>(() => DigitsMat.Load(path));

        Assert.Contains($"{caseName}.mat", error.Message);
        foreach (string fragment in fragments)
            Assert.Contains(fragment, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Load_HandBuiltFileWithAnyFinitePixels()
    {
        using var temp = new TempDirectory();
        string path = BuildDigitsFile("valid").Save(temp.Path, "valid.mat");

        var splits = DigitsMat.Load(path);

        Assert.Equal(4, splits.Train.Count);
        Assert.Equal([1, 2, 9, 0], splits.Train.Labels);
        // Pixels outside 0..255 are accepted as long as they are finite.
        Assert.Equal(-3.5f, splits.Train.Sample(1)[0]);
        Assert.Equal(1000f, splits.Train.Sample(2)[16 * 3 + 2]);
    }

    /// <summary>
    /// A small digits-like file with 4 samples per split, damaged in the way <paramref name="caseName"/> names.
    /// Sample n of X has pixel (r, c) = n + r + c, except two planted values in the valid case.
    /// </summary>
    private static MatWriter BuildDigitsFile(string caseName)
    {
        double[] Images(int count, int width = 256)
        {
            var data = new double[count * width];
            for (int n = 0; n < count; n++)
                for (int p = 0; p < width; p++)
                    data[p * count + n] = n + p % 16 + p / 16;
            return data;
        }

        var x = Images(4);
        var y = new double[] { 1, 2, 9, 10 };
        var xValid = Images(4);
        var yValid = new double[] { 3, 4, 5, 6 };
        var xTest = Images(4);
        var yTest = new double[] { 7, 8, 10, 1 };
        int[] xDims = [4, 256];
        int[] yDims = [4, 1];
        int[] yValidDims = [4, 1];

        switch (caseName)
        {
            case "valid":
                x[0 * 4 + 1] = -3.5;                 // sample 1, element 0 = pixel (0, 0)
                x[(2 * 16 + 3) * 4 + 2] = 1000;      // sample 2, element 2 * 16 + 3 = pixel (3, 2)
                break;
            case "x-wrong-width":
                x = Images(4, 255);
                xDims = [4, 255];
                break;
            case "x-three-dims":
                xDims = [4, 16, 16];
                break;
            case "y-row-vector":
                yDims = [1, 4];
                break;
            case "y-count-mismatch":
                yValid = [3, 4, 5];
                yValidDims = [3, 1];
                break;
            case "label-zero":
                y[2] = 0;
                break;
            case "label-eleven":
                yTest[1] = 11;
                break;
            case "label-fraction":
                yValid[0] = 2.5;
                break;
            case "pixel-nan":
                xValid[17 * 4 + 1] = double.NaN;     // row 2, column 18 (1-based)
                break;
            case "pixel-infinite":
                x[255 * 4 + 3] = double.PositiveInfinity; // row 4, column 256 (1-based)
                break;
        }

        var writer = new MatWriter();
        if (caseName == "x-is-char")
            writer.AddOfClass("X", (int)MatClass.Char, [1, 3], compressed: true, writer.Element(MatDataType.UInt16, [65, 0, 66, 0, 67, 0]));
        else
            writer.Add("X", xDims, x, MatDataType.Double, compressed: true);
        if (caseName != "missing-y")
            writer.Add("y", yDims, y, MatDataType.UInt8, compressed: true);
        writer.Add("Xvalid", [4, 256], xValid, MatDataType.Double, compressed: true);
        writer.Add("yvalid", yValidDims, yValid, MatDataType.Double);
        if (caseName != "missing-xtest")
            writer.Add("Xtest", [4, 256], xTest, MatDataType.Double, compressed: true);
        writer.Add("ytest", [4, 1], yTest, MatDataType.UInt8, compressed: true);
        return writer;
    }

    private static DataFormatException LoadExpectingFailure(string path)
    {
        var error = LoadWithTimeout(path);
        Assert.True(error is not null, $"{path}: loading a damaged file succeeded");
        return Assert.IsType<DataFormatException>(error);
    }

    /// <summary>Loads <paramref name="path"/> and returns the exception it raised, or null; fails the test after 30 s.</summary>
    private static Exception? LoadWithTimeout(string path)
    {
        var task = Task.Run(() => DigitsMat.Load(path));
        bool finished = ((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30));
        Assert.True(finished, $"{path}: loading did not finish within 30 s");
        return task.Exception?.InnerException;
    }

    /// <summary>Byte offsets at which each top-level element of a MAT-file starts, from the tags.</summary>
    private static IEnumerable<int> TopLevelElementOffsets(byte[] file)
    {
        int position = 128;
        while (position + 8 <= file.Length)
        {
            yield return position;
            int size = BitConverter.ToInt32(file, position + 4);
            position += 8 + size;
        }
    }

    private static double[,] MeanImage(Dataset data, int digit)
    {
        var mean = new double[16, 16];
        int count = 0;
        for (int n = 0; n < data.Count; n++)
        {
            if (data.Labels[n] != digit)
                continue;
            count++;
            var sample = data.Sample(n);
            for (int r = 0; r < 16; r++)
                for (int c = 0; c < 16; c++)
                    mean[r, c] += sample[r * 16 + c];
        }

        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 16; c++)
                mean[r, c] /= count;
        return mean;
    }

    private static double Variance(IEnumerable<double> values)
    {
        var list = values.ToList();
        double average = list.Average();
        return list.Sum(v => (v - average) * (v - average)) / list.Count;
    }
}
