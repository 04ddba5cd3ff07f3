using DigitNet.Tensors;

namespace DigitNet.Data;

/// <summary>
/// A random transformation of one training sample, applied on the fly each time the sample is
/// drawn. Implementations must not allocate and must draw all randomness from the given generator.
/// </summary>
public interface IAugmentation
{
    /// <summary>Writes a transformed copy of <paramref name="source"/> (one sample, <c>[C, H, W]</c>) to <paramref name="destination"/>.</summary>
    void Apply(ReadOnlySpan<float> source, Span<float> destination, RandomSource random);
}
