using DigitNet.Tensors;

namespace DigitNet.Data.Augmentation;

/// <summary>
/// A random affine transform per sample: rotation by an angle uniform in
/// <c>[-MaxRotation, MaxRotation]</c> degrees about the image centre, scaling by a factor uniform
/// in <c>[1 - MaxScale, 1 + MaxScale]</c>, and a shift uniform in <c>[-MaxShift, MaxShift]</c>
/// pixels along each axis, applied as one inverse map with bilinear sampling. Works on raw pixel
/// values: pixels that come from outside the image are 0. Wrap it in
/// <see cref="RawPixelAugmentation"/> to use it on preprocessed samples.
/// </summary>
public sealed class AffineAugmentation : IAugmentation
{
    private readonly TensorShape _shape;

    /// <exception cref="ArgumentException">The sample shape is not <c>[C, H, W]</c>, or a range is negative or not finite.</exception>
    public AffineAugmentation(TensorShape sampleShape, double maxRotation, double maxShift, double maxScale)
    {
        ImageWarp.CheckImageShape(sampleShape, "affine augmentation");
        if (!(maxRotation >= 0 && maxRotation <= 180))
            throw new ArgumentOutOfRangeException(nameof(maxRotation), maxRotation, "maximum rotation must be in [0, 180] degrees");
        if (!(maxShift >= 0 && double.IsFinite(maxShift)))
            throw new ArgumentOutOfRangeException(nameof(maxShift), maxShift, "maximum shift must be a finite number of pixels, 0 or more");
        if (!(maxScale >= 0 && maxScale < 1))
            throw new ArgumentOutOfRangeException(nameof(maxScale), maxScale, "maximum relative scale change must be in [0, 1)");
        _shape = sampleShape;
        MaxRotation = maxRotation;
        MaxShift = maxShift;
        MaxScale = maxScale;
    }

    /// <summary>Largest rotation, in degrees.</summary>
    public double MaxRotation { get; }

    /// <summary>Largest shift along each axis, in pixels.</summary>
    public double MaxShift { get; }

    /// <summary>Largest relative change of size (0.1 allows 0.9x to 1.1x).</summary>
    public double MaxScale { get; }

    /// <summary>Draws an angle, a scale and two shifts from <paramref name="random"/>, in that order, and warps the sample.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, RandomSource random)
    {
        ImageWarp.CheckSpans(source.Length, destination.Length, _shape, "affine augmentation");
        double degrees = random.Uniform(-MaxRotation, MaxRotation);
        double scale = random.Uniform(1 - MaxScale, 1 + MaxScale);
        double shiftX = random.Uniform(-MaxShift, MaxShift);
        double shiftY = random.Uniform(-MaxShift, MaxShift);
        var (a, b, c, d) = ImageWarp.InverseRotationScale(degrees, scale);
        ImageWarp.Affine(source, destination, _shape, a, b, c, d, shiftX, shiftY);
    }
}
