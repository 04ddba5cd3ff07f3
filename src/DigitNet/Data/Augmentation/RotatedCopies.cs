namespace DigitNet.Data.Augmentation;

/// <summary>
/// The fixed rotated-copies experiment: the training split enlarged by copies of every image
/// rotated by each given angle (for example 45, 90 and 180 degrees), with the labels unchanged.
/// Unlike on-the-fly augmentation, the copies are made once, before preprocessing.
/// </summary>
public static class RotatedCopies
{
    /// <summary>
    /// Returns a new data set with the samples of <paramref name="data"/> (raw pixel values)
    /// followed by one rotated copy of all of them per angle, in the order of
    /// <paramref name="degrees"/>. Angles are counter-clockwise as displayed, about the image
    /// centre, with bilinear sampling; corners rotated in from outside the image are 0.
    /// </summary>
    /// <exception cref="ArgumentException">The samples are not images <c>[C, H, W]</c>, or an angle is not finite.</exception>
    public static Dataset Append(Dataset data, IReadOnlyList<double> degrees)
    {
        if (degrees.Count == 0) return data;
        ImageWarp.CheckImageShape(data.SampleShape, "rotated copies");
        foreach (double angle in degrees)
        {
            if (!double.IsFinite(angle))
                throw new ArgumentException($"rotated copies: angle {angle} is not a finite number of degrees");
        }

        int size = data.SampleShape.Size;
        int count = data.Count;
        var features = new float[size * count * (degrees.Count + 1)];
        var labels = new byte[count * (degrees.Count + 1)];
        data.Features.AsSpan(0, size * count).CopyTo(features);
        data.Labels.CopyTo(labels, 0);

        for (int copy = 0; copy < degrees.Count; copy++)
        {
            var (a, b, c, d) = ImageWarp.InverseRotationScale(degrees[copy], 1);
            int first = (copy + 1) * count;
            for (int n = 0; n < count; n++)
            {
                ImageWarp.Affine(data.Sample(n), features.AsSpan((first + n) * size, size), data.SampleShape, a, b, c, d, 0, 0);
                labels[first + n] = data.Labels[n];
            }
        }
        return new Dataset(data.Name, data.SampleShape, features, labels, data.ClassNames);
    }
}
