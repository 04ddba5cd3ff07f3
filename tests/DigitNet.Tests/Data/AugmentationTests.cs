using DigitNet.Cli;
using DigitNet.Data;
using DigitNet.Data.Augmentation;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;

namespace DigitNet.Tests.Data;

public sealed class AugmentationTests
{
    private static readonly TensorShape Digit = new(1, 16, 16);

    /// <summary>A 16x16 image with a 4x4 square of 200 at rows and columns 6..9 and a darker tail pixel.</summary>
    private static float[] Blob()
    {
        var image = new float[256];
        for (int y = 6; y < 10; y++)
        for (int x = 6; x < 10; x++) image[y * 16 + x] = 200;
        image[5 * 16 + 9] = 80;
        return image;
    }

    private static (double Mass, double Row, double Column) Moments(ReadOnlySpan<float> image, int width)
    {
        double mass = 0, row = 0, column = 0;
        for (int i = 0; i < image.Length; i++)
        {
            mass += image[i];
            row += image[i] * (i / width);
            column += image[i] * (i % width);
        }
        return (mass, row / mass, column / mass);
    }

    [Fact]
    public void AffineWithZeroRangesIsIdentity()
    {
        var augmentation = new AffineAugmentation(Digit, 0, 0, 0);
        var source = Blob();
        var destination = new float[256];

        augmentation.Apply(source, destination, new RandomSource(1));

        Assertions.BitwiseEqual(source, destination, "affine with no rotation, shift or scale");
    }

    [Fact]
    public void AffineShiftMovesCentroidWithinRange()
    {
        var augmentation = new AffineAugmentation(Digit, 0, 2, 0);
        var source = Blob();
        var (mass, row, column) = Moments(source, 16);
        var destination = new float[256];
        var random = new RandomSource(2);
        bool moved = false;

        for (int trial = 0; trial < 50; trial++)
        {
            augmentation.Apply(source, destination, random);
            var (m, r, c) = Moments(destination, 16);
            Assert.InRange(m, mass * 0.999, mass * 1.001);
            Assert.InRange(r - row, -2.0001, 2.0001);
            Assert.InRange(c - column, -2.0001, 2.0001);
            moved |= Math.Abs(r - row) > 0.5;
        }
        Assert.True(moved, "no shift of more than half a pixel in 50 draws from [-2, 2]");
    }

    [Fact]
    public void AffineScaleChangesMassWithinRange()
    {
        // Scaling by s multiplies the area, and so the mass of an interior blob, by about s^2.
        var augmentation = new AffineAugmentation(Digit, 0, 0, 0.2);
        var source = Blob();
        double mass = Moments(source, 16).Mass;
        var destination = new float[256];
        var random = new RandomSource(3);

        for (int trial = 0; trial < 50; trial++)
        {
            augmentation.Apply(source, destination, random);
            double ratio = Moments(destination, 16).Mass / mass;
            Assert.InRange(ratio, 0.8 * 0.8 * 0.9, 1.2 * 1.2 * 1.1);
        }
    }

    [Fact]
    public void SameSeedGivesSameSample()
    {
        var augmentation = new AffineAugmentation(Digit, 15, 1.5, 0.1);
        var first = new float[256];
        var second = new float[256];
        var third = new float[256];

        augmentation.Apply(Blob(), first, new RandomSource(4));
        augmentation.Apply(Blob(), second, new RandomSource(4));
        augmentation.Apply(Blob(), third, new RandomSource(5));

        Assertions.BitwiseEqual(first, second, "two draws from generators with the same seed");
        Assert.NotEqual(first, third);
    }

    [Fact]
    public void ApplyAllocatesNothing()
    {
        var preprocessing = Preprocessing.Create(PreprocessingKind.Scale255);
        var augmentation = AugmentationFactory.Create(new TrainingOptions { Augment = "affine+elastic" }, Dataset(Blob()), preprocessing)!;
        var source = Blob();
        var destination = new float[256];
        var random = new RandomSource(6);
        augmentation.Apply(source, destination, random);

        long allocated = AllocationMeter.LeastAllocated(() =>
        {
            for (int i = 0; i < 100; i++) augmentation.Apply(source, destination, random);
        });

        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData(90, 1, 2)]
    [InlineData(-90, 3, 2)]
    [InlineData(180, 2, 1)]
    public void RotationIsCounterClockwiseAsDisplayed(double degrees, int expectedRow, int expectedColumn)
    {
        // 5x5 image centred on pixel (2, 2); the lit pixel sits right of the centre at (2, 3).
        var image = new float[25];
        image[2 * 5 + 3] = 100;
        var data = new Dataset("train", new TensorShape(1, 5, 5), image, [7], DigitsMat.ClassNames);

        var enlarged = RotatedCopies.Append(data, [degrees]);

        var rotated = enlarged.Sample(1);
        Assert.Equal(100f, rotated[expectedRow * 5 + expectedColumn], 3);
        Assert.Equal(100f, rotated.ToArray().Sum(), 3);
    }

    [Fact]
    public void RotatedCopiesAppendEachAngleWithLabels()
    {
        var features = new float[3 * 256];
        Blob().CopyTo(features, 0);
        Blob().CopyTo(features, 256);
        features[2 * 256 + 100] = 50;
        var data = new Dataset("train", Digit, features, [1, 2, 3], DigitsMat.ClassNames);

        var enlarged = RotatedCopies.Append(data, [45, 90, 180]);

        Assert.Equal(12, enlarged.Count);
        Assert.Equal([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3], enlarged.Labels.Select(l => (int)l));
        Assertions.BitwiseEqual(features, enlarged.Features.AsSpan(0, features.Length), "original samples first");
        Assert.NotEqual(Blob(), enlarged.Sample(3).ToArray());
    }

    [Fact]
    public void RotatingTwiceBy180RestoresImage()
    {
        var data = new Dataset("train", Digit, Blob(), [4], DigitsMat.ClassNames);

        var once = RotatedCopies.Append(data, [180]);
        var twice = RotatedCopies.Append(new Dataset("train", Digit, once.Sample(1).ToArray(), [4], DigitsMat.ClassNames), [180]);

        Assertions.AllClose(Blob(), twice.Sample(1), 1e-3, 0, "image rotated by 180 degrees twice");
    }

    [Fact]
    public void RotatedCopiesWithNoAnglesReturnsSameData()
    {
        var data = new Dataset("train", Digit, Blob(), [4], DigitsMat.ClassNames);
        Assert.Same(data, RotatedCopies.Append(data, []));
    }

    [Fact]
    public void ElasticWithZeroAlphaIsIdentity()
    {
        var augmentation = new ElasticDistortion(Digit, 0, 2);
        var source = Blob();
        var destination = new float[256];

        augmentation.Apply(source, destination, new RandomSource(7));

        Assertions.BitwiseEqual(source, destination, "elastic distortion with alpha 0");
    }

    [Fact]
    public void ElasticMovesPixelsButKeepsShape()
    {
        var augmentation = new ElasticDistortion(Digit, 11, 2.3);
        var source = Blob();
        var (mass, row, column) = Moments(source, 16);
        var destination = new float[256];
        var random = new RandomSource(8);

        for (int trial = 0; trial < 20; trial++)
        {
            augmentation.Apply(source, destination, random);
            var (m, r, c) = Moments(destination, 16);
            Assert.NotEqual(source, destination);
            Assert.InRange(m, mass * 0.5, mass * 1.6);
            Assert.InRange(r - row, -2, 2);
            Assert.InRange(c - column, -2, 2);
        }
    }

    [Fact]
    public void PipelineRunsStepsInOrder()
    {
        var pipeline = new AugmentationPipeline(new TensorShape(1, 1, 3),
            [new Map(v => v + 1), new Map(v => v * 2), new Map(v => v - 3)]);
        var destination = new float[3];

        pipeline.Apply([1f, 2f, 3f], destination, new RandomSource(9));

        Assert.Equal([1f, 3f, 5f], destination);
    }

    [Fact]
    public void RawPixelFillsBlankWithPreprocessedZero()
    {
        // A step that blanks the whole image shows what standardize turns a blank pixel into, per pixel.
        var features = new float[3 * 256];
        var random = new RandomSource(10);
        TestUtil.GradientCheck.Fill(features, random, 0, 255);
        var train = new Dataset("train", Digit, features, [0, 1, 2], DigitsMat.ClassNames);
        var preprocessing = Preprocessing.Fit(PreprocessingKind.Standardize, train);
        var augmentation = new RawPixelAugmentation(new Map(_ => 0), preprocessing, Digit);
        var sample = preprocessing.Apply(train).Sample(0);
        var destination = new float[256];

        augmentation.Apply(sample, destination, random);

        var blank = new float[256];
        preprocessing.Apply(blank);
        Assertions.AllClose(blank, destination, 1e-5, 1e-5, "augmented blank image");
        Assert.NotEqual(blank[0], blank[1]);
    }

    [Theory]
    [InlineData(PreprocessingKind.None)]
    [InlineData(PreprocessingKind.Scale255)]
    [InlineData(PreprocessingKind.Classic)]
    [InlineData(PreprocessingKind.Standardize)]
    public void RawPixelIdentityKeepsSample(PreprocessingKind kind)
    {
        var features = new float[2 * 256];
        TestUtil.GradientCheck.Fill(features, new RandomSource(11), 0, 255);
        var train = new Dataset("train", Digit, features, [0, 1], DigitsMat.ClassNames);
        var preprocessing = Preprocessing.Fit(kind, train);
        var augmentation = new RawPixelAugmentation(new Map(v => v), preprocessing, Digit);
        var sample = preprocessing.Apply(train).Sample(1);
        var destination = new float[256];

        augmentation.Apply(sample, destination, new RandomSource(12));

        Assertions.AllClose(sample, destination, 1e-4, 1e-5, $"{kind} sample through an identity augmentation");
    }

    [Theory]
    [InlineData("none", null)]
    [InlineData("affine", typeof(AffineAugmentation))]
    [InlineData("elastic", typeof(ElasticDistortion))]
    [InlineData("affine+elastic", typeof(AugmentationPipeline))]
    public void FactoryBuildsRequestedAugmentation(string augment, Type? innerType)
    {
        var options = new TrainingOptions { Augment = augment, Rotate = 7, Translate = 1, Scale = 0.05 };

        var augmentation = AugmentationFactory.Create(options, Dataset(Blob()), Preprocessing.Create(PreprocessingKind.Scale255));

        if (innerType is null)
        {
            Assert.Null(augmentation);
            return;
        }
        var inner = Assert.IsType<RawPixelAugmentation>(augmentation).Inner;
        Assert.IsType(innerType, inner);
        if (inner is AffineAugmentation affine)
        {
            Assert.Equal(7, affine.MaxRotation);
            Assert.Equal(1, affine.MaxShift);
            Assert.Equal(0.05, affine.MaxScale);
        }
    }

    [Fact]
    public void AffineRejectsNonImageSamples()
    {
        var error = Assert.Throws<ArgumentException>(() => new AffineAugmentation(new TensorShape(256), 10, 1, 0.1));
        Assert.Contains("[C, H, W]", error.Message);
    }

    [Fact]
    public void ApplyRejectsWrongSampleSize()
    {
        var augmentation = new AffineAugmentation(Digit, 10, 1, 0.1);
        var error = Assert.Throws<ArgumentException>(() => augmentation.Apply(new float[255], new float[256], new RandomSource(13)));
        Assert.Contains("256 values", error.Message);
    }

    private static Dataset Dataset(float[] image) => new("train", Digit, image, [0], DigitsMat.ClassNames);

    /// <summary>A deterministic element-wise step, to test composition without randomness.</summary>
    private sealed class Map(Func<float, float> function) : IAugmentation
    {
        public void Apply(ReadOnlySpan<float> source, Span<float> destination, RandomSource random)
        {
            for (int i = 0; i < source.Length; i++) destination[i] = function(source[i]);
        }
    }
}
