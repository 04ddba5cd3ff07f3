using DigitNet.Data.Formats;
using DigitNet.Tests.Data;

namespace DigitNet.Tests.TestUtil;

/// <summary>A small MAT-file laid out like digits.mat, for command-line tests that need to train in a second.</summary>
internal static class SmallDigits
{
    /// <summary>Samples in each of the training, validation and test splits.</summary>
    public const int SamplesPerSplit = 20;

    /// <summary>
    /// Returns a writer with the six variables of digits.mat: 20 samples per split, labels 1..10 in
    /// turn and pixels 0..255.
    /// </summary>
    /// <param name="changeValues">Called with each variable's name and values before they are added, to corrupt them.</param>
    /// <param name="skip">A variable to leave out, or null.</param>
    public static MatWriter Create(Action<string, double[]>? changeValues = null, string? skip = null)
    {
        var writer = new MatWriter();
        foreach (var (images, labels) in new[] { ("X", "y"), ("Xvalid", "yvalid"), ("Xtest", "ytest") })
        {
            var pixels = new double[SamplesPerSplit * 256];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (i * 37) % 256;
            var classes = new double[SamplesPerSplit];
            for (int i = 0; i < SamplesPerSplit; i++) classes[i] = i % 10 + 1;
            changeValues?.Invoke(images, pixels);
            changeValues?.Invoke(labels, classes);
            if (skip != images) writer.Add(images, [SamplesPerSplit, 256], pixels, MatDataType.UInt8, compressed: true);
            if (skip != labels) writer.Add(labels, [SamplesPerSplit, 1], classes, MatDataType.UInt8, compressed: true);
        }
        return writer;
    }
}
