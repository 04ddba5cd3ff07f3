using System.Numerics.Tensors;
using DigitNet.Tensors;

namespace DigitNet.Data.Augmentation;

/// <summary>
/// Runs an augmentation written for raw pixel values on preprocessed samples. Every
/// <see cref="Preprocessing"/> maps pixel <c>i</c> as <c>x' = gain[i] * x + offset[i]</c>, so this
/// adapter maps the sample back to raw values, lets the inner augmentation warp it with a
/// background of 0 (a blank pixel), and maps the result forward again. The outcome equals
/// augmenting the raw image and then preprocessing it; in particular, a pixel that comes from
/// outside the image gets the preprocessed value of a blank pixel at that position, which for
/// standardize differs per pixel.
/// </summary>
public sealed class RawPixelAugmentation : IAugmentation
{
    private readonly IAugmentation _inner;
    private readonly float[] _gain, _offset, _raw, _warped;

    /// <exception cref="ArgumentException">The preprocessing does not fit samples of <paramref name="sampleShape"/>, or maps a pixel with gain 0.</exception>
    public RawPixelAugmentation(IAugmentation inner, Preprocessing preprocessing, TensorShape sampleShape)
    {
        _inner = inner;
        int size = sampleShape.Size;

        // offset = p(0) and gain = p(1) - p(0), read off the preprocessing itself.
        _offset = new float[size];
        preprocessing.Apply(_offset);
        _gain = new float[size];
        _gain.AsSpan().Fill(1f);
        preprocessing.Apply(_gain);
        TensorPrimitives.Subtract(_gain, _offset, _gain);
        int flat = Array.FindIndex(_gain, g => !(g != 0 && float.IsFinite(g)));
        if (flat >= 0)
            throw new ArgumentException($"preprocessing {preprocessing} maps pixel {flat} with gain {_gain[flat]}; it cannot be inverted for augmentation");

        _raw = new float[size];
        _warped = new float[size];
    }

    /// <summary>The raw-pixel augmentation this adapter runs.</summary>
    public IAugmentation Inner => _inner;

    public void Apply(ReadOnlySpan<float> source, Span<float> destination, RandomSource random)
    {
        if (source.Length != _raw.Length || destination.Length != _raw.Length)
            throw new ArgumentException($"augmentation: expected samples of {_raw.Length} values, got source {source.Length} and destination {destination.Length}");

        // raw = (x' - offset) / gain;  warp;  x' = gain * warped + offset
        TensorPrimitives.Subtract(source, _offset, _raw);
        TensorPrimitives.Divide(_raw, _gain, _raw);
        _inner.Apply(_raw, _warped, random);
        TensorPrimitives.MultiplyAdd(_warped, _gain, _offset, destination);
    }
}
