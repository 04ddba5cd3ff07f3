using System.Text.Json;
using DigitNet.Data;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Data;

public class PreprocessingTests
{
    private static readonly Lazy<DataSplits> Digits = new(() => DigitsMat.Load(TestData.DigitsMatPath));

    [Fact]
    public void Standardize_TrainPixelsHaveMeanZeroStdOne()
    {
        var train = Digits.Value.Train;
        var preprocessing = Preprocessing.Fit(PreprocessingKind.Standardize, train);
        var standardized = preprocessing.Apply(train);

        int size = train.SampleShape.Size;
        int checkedPixels = 0;
        for (int i = 0; i < size; i++)
        {
            var (rawMean, rawStd) = PixelStats(train, i);
            var (mean, std) = PixelStats(standardized, i);
            Assert.True(Math.Abs(mean) < 1e-4, $"pixel {i}: standardized mean {mean}");
            if (rawStd >= Preprocessing.ConstantThreshold)
            {
                Assert.True(Math.Abs(std - 1) < 1e-4, $"pixel {i}: standardized std {std} (raw mean {rawMean}, std {rawStd})");
                checkedPixels++;
            }
        }
        Assert.True(checkedPixels > 200, $"only {checkedPixels} of {size} pixels vary in the training split");
    }

    [Fact]
    public void Standardize_UsesTrainingStatisticsForOtherSplits()
    {
        var splits = Digits.Value;
        var preprocessing = Preprocessing.Fit(PreprocessingKind.Standardize, splits.Train);
        var valid = preprocessing.Apply(splits.Valid);

        int pixel = 8 * 16 + 8;
        float expected = (splits.Valid.Sample(3)[pixel] - preprocessing.Mean[pixel]) / preprocessing.Std[pixel];
        Assert.Equal(expected, valid.Sample(3)[pixel]);
        var (validMean, _) = PixelStats(valid, pixel);
        Assert.NotEqual(0, validMean);
    }

    [Fact]
    public void Standardize_ConstantPixelGetsStdOne()
    {
        // Pixel 0 is always 5, pixel 1 alternates 0 and 2 (mean 1, std 1 exactly), pixel 2 varies a little.
        var train = new Dataset("train", new TensorShape(1, 1, 3), [5, 0, 10, 5, 2, 10.0001f, 5, 0, 10, 5, 2, 10.0001f], [0, 1, 0, 1], ["a", "b"]);

        var preprocessing = Preprocessing.Fit(PreprocessingKind.Standardize, train);

        Assert.Equal([5f, 1f, preprocessing.Mean[2]], preprocessing.Mean.ToArray());
        Assert.Equal(1f, preprocessing.Std[0]);
        Assert.Equal(1f, preprocessing.Std[1]);
        Assert.Equal(1f, preprocessing.Std[2]);
        Assert.Equal([0f, -1f], preprocessing.Apply(train).Sample(0).ToArray()[..2]);
    }

    [Theory]
    [InlineData(PreprocessingKind.None, 0f, 255f, 51f)]
    [InlineData(PreprocessingKind.Scale255, 0f, 1f, 0.2f)]
    [InlineData(PreprocessingKind.Classic, 0.01f, 1f, 0.208f)]
    public void FixedKinds_MapPixelValues(PreprocessingKind kind, float atZero, float atMax, float at51)
    {
        var data = new Dataset("d", new TensorShape(1, 1, 3), [0, 255, 51], [0], ["only"]);

        var scaled = Preprocessing.Fit(kind, data).Apply(data).Features;

        Assert.Equal(atZero, scaled[0], 6);
        Assert.Equal(atMax, scaled[1], 6);
        Assert.Equal(at51, scaled[2], 6);
    }

    [Theory]
    [InlineData(PreprocessingKind.None)]
    [InlineData(PreprocessingKind.Scale255)]
    [InlineData(PreprocessingKind.Classic)]
    [InlineData(PreprocessingKind.Standardize)]
    public void Apply_SampleMatchesDatasetAndLeavesInputAlone(PreprocessingKind kind)
    {
        var test = Digits.Value.Test;
        float[] before = (float[])test.Features.Clone();
        var preprocessing = Preprocessing.Fit(kind, Digits.Value.Train);

        var applied = preprocessing.Apply(test);
        float[] sample = test.Sample(17).ToArray();
        preprocessing.Apply(sample);

        Assert.Equal(before, test.Features);
        Assert.NotSame(test, applied);
        Assert.NotSame(test.Features, applied.Features);
        Assert.Equal(applied.Sample(17).ToArray(), sample);
        Assert.Equal(test.Labels, applied.Labels);
    }

    [Fact]
    public void Apply_WrongSampleSizeIsRejected()
    {
        var preprocessing = Preprocessing.Fit(PreprocessingKind.Standardize, Digits.Value.Train);

        var error = Assert.Throws<ArgumentException>(() => preprocessing.Apply(new float[784]));

        Assert.Contains("256", error.Message);
        Assert.Contains("784", error.Message);
    }

    [Theory]
    [InlineData(PreprocessingKind.None)]
    [InlineData(PreprocessingKind.Scale255)]
    [InlineData(PreprocessingKind.Classic)]
    [InlineData(PreprocessingKind.Standardize)]
    public void Json_RoundTripIsExact(PreprocessingKind kind)
    {
        var original = Preprocessing.Fit(kind, Digits.Value.Train);

        var restored = Preprocessing.FromJson(original.ToJson());

        Assert.Equal(original, restored);
        Assert.Equal(original.Kind, restored.Kind);
        for (int i = 0; i < original.Mean.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(original.Mean[i]), BitConverter.SingleToInt32Bits(restored.Mean[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(original.Std[i]), BitConverter.SingleToInt32Bits(restored.Std[i]));
        }
    }

    [Fact]
    public void Json_HasDocumentedKeys()
    {
        var standardize = Preprocessing.Fit(PreprocessingKind.Standardize, Digits.Value.Train);

        using var document = JsonDocument.Parse(standardize.ToJson());
        var root = document.RootElement;

        Assert.Equal("standardize", root.GetProperty("kind").GetString());
        Assert.Equal(256, root.GetProperty("mean").GetArrayLength());
        Assert.Equal(256, root.GetProperty("std").GetArrayLength());
        Assert.Equal("""{"kind":"scale255"}""", Preprocessing.Create(PreprocessingKind.Scale255).ToJson());
        Assert.Equal("""{"kind":"classic"}""", Preprocessing.Create(PreprocessingKind.Classic).ToJson());
        Assert.Equal("""{"kind":"none"}""", Preprocessing.Create(PreprocessingKind.None).ToJson());
    }

    [Fact]
    public void Json_ReadsFromEnclosingDocument()
    {
        using var document = JsonDocument.Parse("""{"format":1,"preprocessing":{"kind":"standardize","mean":[1.5,2],"std":[0.25,3],"note":"ignored"}}""");

        var preprocessing = Preprocessing.FromJson(document.RootElement.GetProperty("preprocessing"));

        Assert.Equal(PreprocessingKind.Standardize, preprocessing.Kind);
        Assert.Equal([1.5f, 2f], preprocessing.Mean.ToArray());
        Assert.Equal([0.25f, 3f], preprocessing.Std.ToArray());
        float[] sample = [2, 2];
        preprocessing.Apply(sample);
        Assert.Equal([2f, 0f], sample);
    }

    [Theory]
    [InlineData("not json", "invalid JSON")]
    [InlineData("[1,2]", "expected an object")]
    [InlineData("""{"mean":[1]}""", "missing string key \"kind\"")]
    [InlineData("""{"kind":"zscore"}""", "'zscore'")]
    [InlineData("""{"kind":"scale255","mean":[1]}""", "takes no \"mean\"")]
    [InlineData("""{"kind":"standardize","mean":[1]}""", "needs both")]
    [InlineData("""{"kind":"standardize","mean":[1,2],"std":[1]}""", "same non-zero length")]
    [InlineData("""{"kind":"standardize","mean":[],"std":[]}""", "same non-zero length")]
    [InlineData("""{"kind":"standardize","mean":[1],"std":[0]}""", "must be positive")]
    [InlineData("""{"kind":"standardize","mean":["a"],"std":[1]}""", "not a finite float")]
    [InlineData("""{"kind":"standardize","mean":[1e39],"std":[1]}""", "not a finite float")]
    [InlineData("""{"kind":"standardize","mean":1,"std":[1]}""", "must be an array")]
    public void Json_InvalidInputIsRejected(string json, string fragment)
    {
        var error = Assert.Throws<DataFormatException>(() => Preprocessing.FromJson(json));

        Assert.Contains("preprocessing JSON", error.Message);
        Assert.Contains(fragment, error.Message);
    }

    [Theory]
    [InlineData("none", PreprocessingKind.None)]
    [InlineData("scale255", PreprocessingKind.Scale255)]
    [InlineData("classic", PreprocessingKind.Classic)]
    [InlineData("standardize", PreprocessingKind.Standardize)]
    [InlineData("Standardize", PreprocessingKind.Standardize)]
    public void ParseKind_AcceptsNames(string name, PreprocessingKind expected)
    {
        Assert.Equal(expected, Preprocessing.ParseKind(name));
    }

    [Fact]
    public void ParseKind_UnknownNameListsValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => Preprocessing.ParseKind("minmax"));

        Assert.Equal("invalid preprocessing kind 'minmax'; expected one of: none, scale255, classic, standardize", error.Message);
    }

    [Fact]
    public void Create_StandardizeNeedsFit()
    {
        Assert.Throws<ArgumentException>(() => Preprocessing.Create(PreprocessingKind.Standardize));
    }

    private static (double Mean, double Std) PixelStats(Dataset data, int pixel)
    {
        double sum = 0, sumOfSquares = 0;
        for (int n = 0; n < data.Count; n++)
        {
            double x = data.Sample(n)[pixel];
            sum += x;
            sumOfSquares += x * x;
        }
        double mean = sum / data.Count;
        return (mean, Math.Sqrt(Math.Max(0, sumOfSquares / data.Count - mean * mean)));
    }
}
