using DigitNet.Tensors;

namespace DigitNet.Data;

/// <summary>
/// Labelled images in memory: <c>Features</c> holds <c>Count</c> samples of shape
/// <c>SampleShape</c> (<c>[C, H, W]</c>) row-major, one after another; <c>Labels</c> holds class
/// indices 0..ClassCount-1. Pixel values are as read from the file until a
/// <see cref="Preprocessing"/> is applied.
/// </summary>
public sealed class Dataset
{
    public Dataset(string name, TensorShape sampleShape, float[] features, byte[] labels, IReadOnlyList<string> classNames)
    {
        int sampleSize = sampleShape.Size;
        if (sampleSize == 0 || features.Length % sampleSize != 0)
            throw new ArgumentException($"{name}: {features.Length} feature values do not divide into samples of shape {sampleShape}");
        int count = features.Length / sampleSize;
        if (labels.Length != count)
            throw new ArgumentException($"{name}: {count} samples but {labels.Length} labels");
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= classNames.Count)
                throw new ArgumentException($"{name}: label {labels[i]} of sample {i} is outside 0..{classNames.Count - 1}");
        }

        Name = name;
        SampleShape = sampleShape;
        Features = features;
        Labels = labels;
        ClassNames = classNames;
    }

    /// <summary>Split name, such as <c>train</c>, <c>valid</c> or <c>test</c>.</summary>
    public string Name { get; }

    /// <summary>Shape of one sample, <c>[C, H, W]</c>.</summary>
    public TensorShape SampleShape { get; }

    /// <summary>All samples, row-major, <c>Count * SampleShape.Size</c> values.</summary>
    public float[] Features { get; }

    /// <summary>Class index of each sample.</summary>
    public byte[] Labels { get; }

    /// <summary>Display name of each class index (for digits, "0".."9").</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>Number of classes.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>The pixels of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Sample(int index)
    {
        int size = SampleShape.Size;
        return Features.AsSpan(index * size, size);
    }

    /// <summary>A new data set with the same samples and transformed features.</summary>
    public Dataset WithFeatures(float[] features) => new(Name, SampleShape, features, Labels, ClassNames);
}

/// <summary>The three splits of a data set: training, validation (model selection) and test (final report only).</summary>
public sealed record DataSplits(Dataset Train, Dataset Valid, Dataset Test);
