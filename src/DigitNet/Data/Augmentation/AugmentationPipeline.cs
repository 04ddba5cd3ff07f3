using DigitNet.Tensors;

namespace DigitNet.Data.Augmentation;

/// <summary>
/// Several augmentations applied one after another to the same sample, such as an affine transform
/// followed by an elastic distortion. Each step draws from the same generator, in order.
/// </summary>
public sealed class AugmentationPipeline : IAugmentation
{
    private readonly IAugmentation[] _steps;
    private readonly float[] _first, _second;

    /// <exception cref="ArgumentException"><paramref name="steps"/> is empty.</exception>
    public AugmentationPipeline(TensorShape sampleShape, IReadOnlyList<IAugmentation> steps)
    {
        if (steps.Count == 0) throw new ArgumentException("an augmentation pipeline needs at least one step", nameof(steps));
        _steps = [.. steps];
        _first = new float[sampleShape.Size];
        _second = new float[sampleShape.Size];
    }

    /// <summary>The steps, in the order they run.</summary>
    public IReadOnlyList<IAugmentation> Steps => _steps;

    public void Apply(ReadOnlySpan<float> source, Span<float> destination, RandomSource random)
    {
        if (source.Length != _first.Length || destination.Length != _first.Length)
            throw new ArgumentException($"augmentation pipeline: expected samples of {_first.Length} values, got source {source.Length} and destination {destination.Length}");

        // Steps ping-pong between two scratch buffers; the last one writes the destination.
        ReadOnlySpan<float> current = source;
        for (int i = 0; i < _steps.Length; i++)
        {
            Span<float> target = i == _steps.Length - 1 ? destination : (i % 2 == 0 ? _first : _second);
            _steps[i].Apply(current, target, random);
            current = target;
        }
    }
}
