using DigitNet.Data;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Data;

public sealed class DigitFramingTests
{
    private static readonly Lazy<DataSplits> Splits = new(() => DigitsMat.Load(TestData.DigitsMatPath));

    [Fact]
    public void TestImagesComeBackUnchanged()
    {
        var test = Splits.Value.Test;
        int unchanged = 0;
        for (int n = 0; n < test.Count; n++)
        {
            var sample = test.Sample(n);
            if (DigitFraming.Frame(sample, 16, 16).AsSpan().SequenceEqual(sample)) unchanged++;
        }

        Assert.Equal(test.Count, unchanged);
    }

    [Fact]
    public void UpscaledDarkOnLightDigitFramesBack()
    {
        const int Factor = 5;
        var test = Splits.Value.Test;
        for (int n = 0; n < 20; n++)
        {
            var sample = test.Sample(n).ToArray();
            // Only digits whose box touches all four edges and whose brightest pixel is 255 can come
            // back exactly from a page, which goes through the crop and contrast steps.
            if (sample.Max() != 255f || !TouchesAllEdges(sample)) continue;

            // Dark ink on a light page, five times larger, with a 40-pixel margin.
            int size = 16 * Factor + 80;
            var page = new float[size * size];
            Array.Fill(page, 230f);
            for (int y = 0; y < 16 * Factor; y++)
            {
                for (int x = 0; x < 16 * Factor; x++)
                    page[(y + 40) * size + x + 40] = 230f - 200f * sample[(y / Factor) * 16 + x / Factor] / 255f;
            }

            var framed = DigitFraming.Frame(page, size, size);
            Assertions.AllClose(sample, framed, 0.01, 1e-4, $"test image {n} framed from a 5x dark-on-light page");
        }
    }

    private static bool TouchesAllEdges(float[] sample)
    {
        float threshold = DigitFraming.InkThreshold * sample.Max();
        bool Ink(int y, int x) => sample[y * 16 + x] > threshold;
        var edge = Enumerable.Range(0, 16);
        return edge.Any(x => Ink(0, x)) && edge.Any(x => Ink(15, x)) && edge.Any(y => Ink(y, 0)) && edge.Any(y => Ink(y, 15));
    }

    [Fact]
    public void SixteenPixelDarkOnLightIsReframed()
    {
        // A dark "1" on a light 16x16 page is not in input form, so it is inverted and framed.
        var page = new float[16 * 16];
        Array.Fill(page, 255f);
        for (int y = 4; y < 12; y++) page[y * 16 + 8] = 0f;

        var framed = DigitFraming.Frame(page, 16, 16);
        Assert.Equal(255f, framed.Max());
        Assert.All(Enumerable.Range(0, 16), y => Assert.True(framed[y * 16 + 7] > 0, $"row {y} has no ink in the centre column"));
    }

    [Fact]
    public void NarrowStrokeIsStretchedAtMostTwice()
    {
        // A vertical bar 10 wide and 100 tall: with the aspect kept it would be 1.6 pixels wide.
        int width = 300, height = 200;
        var page = new float[width * height];
        Array.Fill(page, 255f);
        for (int y = 50; y < 150; y++)
        {
            for (int x = 145; x < 155; x++) page[y * width + x] = 0f;
        }

        var framed = DigitFraming.Frame(page, width, height);
        int inkColumns = Enumerable.Range(0, 16).Count(x => Enumerable.Range(0, 16).Any(y => framed[y * 16 + x] > 0));
        Assert.InRange(inkColumns, 3, 5);
        Assert.Equal(255f, framed.Max());
        Assert.All(Enumerable.Range(0, 16), y => Assert.True(framed[y * 16 + 7] > 0, $"row {y} has no ink in the centre column"));
    }

    [Fact]
    public void BlankImageIsRejected()
    {
        var page = new float[40 * 30];
        Array.Fill(page, 200f);
        page[5] = 195f;
        var error = Assert.Throws<ArgumentException>(() => DigitFraming.Frame(page, 40, 30));
        Assert.Contains("the image is blank", error.Message);
    }

    [Fact]
    public void SizeMismatchIsRejected()
    {
        Assert.Throws<ArgumentException>(() => DigitFraming.Frame(new float[10], 4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => DigitFraming.Frame(new float[16], 4, 4, 16, maxStretch: 0.5));
    }
}
