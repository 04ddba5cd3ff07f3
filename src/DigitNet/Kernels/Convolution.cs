using System.Numerics.Tensors;

namespace DigitNet.Kernels;

/// <summary>
/// Layout changes around the batched convolution product. The product works on channel-major
/// matrices <c>[OUT, N * P]</c> (channel <c>o</c>, then sample <c>n</c>, then output pixel
/// <c>p</c> of <c>P = OH * OW</c>), while layers exchange batch-major tensors
/// <c>[N, OUT, OH, OW]</c>; these kernels move one sample between the two.
/// </summary>
public static class Convolution
{
    /// <summary>
    /// Copies sample <paramref name="sample"/> out of the channel-major matrix <paramref name="channelMajor"/>
    /// (row stride <paramref name="ld"/>) into <paramref name="y"/> (<c>[OUT, P]</c>), adding
    /// <paramref name="bias"/>[o] to channel o when a bias is given (pass an empty span for none).
    /// </summary>
    public static void ScatterSample(ReadOnlySpan<float> channelMajor, int ld, int sample, int planeSize,
        ReadOnlySpan<float> bias, Span<float> y)
    {
        int channels = CheckSample(channelMajor.Length, ld, sample, planeSize, y.Length);
        if (!bias.IsEmpty && bias.Length != channels)
            throw new ArgumentException($"convolution: bias has {bias.Length} values for {channels} channels");

        for (int o = 0; o < channels; o++)
        {
            var source = channelMajor.Slice(o * ld + sample * planeSize, planeSize);
            var destination = y.Slice(o * planeSize, planeSize);
            if (bias.IsEmpty) source.CopyTo(destination);
            else TensorPrimitives.Add(source, bias[o], destination);
        }
    }

    /// <summary>The inverse of <see cref="ScatterSample"/> without bias: copies <paramref name="dy"/> (<c>[OUT, P]</c>) into column block <paramref name="sample"/>.</summary>
    public static void GatherSample(ReadOnlySpan<float> dy, int planeSize, int sample, Span<float> channelMajor, int ld)
    {
        int channels = CheckSample(channelMajor.Length, ld, sample, planeSize, dy.Length);
        for (int o = 0; o < channels; o++)
            dy.Slice(o * planeSize, planeSize).CopyTo(channelMajor.Slice(o * ld + sample * planeSize, planeSize));
    }

    private static int CheckSample(int matrixLength, int ld, int sample, int planeSize, int sampleLength)
    {
        if (planeSize <= 0 || sampleLength % planeSize != 0)
            throw new ArgumentException($"convolution: a sample of {sampleLength} values is not a whole number of planes of {planeSize}");
        int channels = sampleLength / planeSize;
        if ((sample + 1) * planeSize > ld || (long)(channels - 1) * ld + (sample + 1) * planeSize > matrixLength)
            throw new ArgumentException($"convolution: sample {sample} of {channels} x {planeSize} values does not fit a matrix of {matrixLength} values with row stride {ld}");
        return channels;
    }
}
