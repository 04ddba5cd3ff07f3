using DigitNet.Data.Formats;
using DigitNet.Tensors;

namespace DigitNet.Data;

/// <summary>
/// Loader for digits.mat: 16x16 handwritten digits in a MATLAB MAT-file with the variables
/// <c>X</c>/<c>y</c> (training), <c>Xvalid</c>/<c>yvalid</c> (validation) and
/// <c>Xtest</c>/<c>ytest</c> (test).
/// </summary>
/// <remarks>
/// Each X variable is N x 256, one image per row; each y variable is N x 1 with labels 1..10,
/// where label k is the digit k for k = 1..9 and label 10 is the digit 0. Each row stores its
/// 16x16 image column by column, so pixel (r, c) of the upright image is element
/// <c>c * 16 + r</c> of the row. The loader turns images upright and row-major.
/// </remarks>
public static class DigitsMat
{
    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 16;

    private const int PixelCount = ImageSize * ImageSize;
    private const int LabelOfDigitZero = 10;

    /// <summary>Class names in label order: index i is the digit i.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>
    /// Loads the three splits. Each is a <see cref="Dataset"/> with sample shape <c>[1, 16, 16]</c>,
    /// raw pixel values as floats (0..255 in the published file) and labels 0..9 (the digit).
    /// </summary>
    /// <exception cref="DataFormatException">
    /// The file is missing, is not a readable level 5 MAT-file, lacks a variable, has a variable
    /// of the wrong shape, a label outside 1..10 or a NaN or infinite pixel.
    /// </exception>
    public static DataSplits Load(string path)
    {
        var file = MatFile.Read(path);
        return new DataSplits(
            LoadSplit(file, "train", "X", "y"),
            LoadSplit(file, "valid", "Xvalid", "yvalid"),
            LoadSplit(file, "test", "Xtest", "ytest"));
    }

    private static Dataset LoadSplit(MatFile file, string splitName, string imagesName, string labelsName)
    {
        var images = file.Get(imagesName);
        var labels = file.Get(labelsName);

        if (images.Dimensions.Length != 2 || images.Dimensions[1] != PixelCount)
        {
            throw new DataFormatException(
                $"{file.DisplayName}: variable '{imagesName}' is {images.DimensionsText}, expected Nx{PixelCount} (one 16x16 image per row)");
        }
        int count = images.Dimensions[0];
        if (labels.Dimensions.Length != 2 || labels.Dimensions[1] != 1)
        {
            throw new DataFormatException(
                $"{file.DisplayName}: variable '{labelsName}' is {labels.DimensionsText}, expected Nx1 (one label per row)");
        }
        if (labels.Dimensions[0] != count)
        {
            throw new DataFormatException(
                $"{file.DisplayName}: variable '{labelsName}' has {labels.Dimensions[0]} labels but '{imagesName}' has {count} images; they must match");
        }

        byte[] digits = ConvertLabels(file, labels);
        float[] features = ToUprightImages(file, images);
        return new Dataset(splitName, new TensorShape(1, ImageSize, ImageSize), features, digits, ClassNames);
    }

    /// <summary>Maps labels 1..9 to digits 1..9 and label 10 to digit 0.</summary>
    private static byte[] ConvertLabels(MatFile file, MatArray labels)
    {
        var digits = new byte[labels.ElementCount];
        for (int i = 0; i < digits.Length; i++)
        {
            double label = labels.Data[i];
            if (!(label >= 1 && label <= LabelOfDigitZero && label == Math.Floor(label)))
            {
                // Rows are 1-based in messages, as MATLAB users index them.
                throw new DataFormatException(FormattableString.Invariant(
                    $"{file.DisplayName}: variable '{labels.Name}' row {i + 1} has label {label}; labels must be integers 1..10 (10 is the digit 0)"));
            }
            digits[i] = label == LabelOfDigitZero ? (byte)0 : (byte)label;
        }
        return digits;
    }

    /// <summary>
    /// Returns the features of an N x 256 column-major matrix of column-major 16x16 images as N
    /// row-major upright images.
    /// </summary>
    private static float[] ToUprightImages(MatFile file, MatArray images)
    {
        int count = images.Dimensions[0];
        double[] data = images.Data;
        var features = new float[count * PixelCount];

        // Matrix element (n, p) is data[p * count + n], and pixel p = c * 16 + r of row n is
        // pixel (r, c) of image n.
        for (int c = 0; c < ImageSize; c++)
        {
            for (int r = 0; r < ImageSize; r++)
            {
                int column = c * ImageSize + r;
                int source = column * count;
                int target = r * ImageSize + c;
                for (int n = 0; n < count; n++)
                {
                    double value = data[source + n];
                    if (!double.IsFinite(value))
                    {
                        throw new DataFormatException(FormattableString.Invariant(
                            $"{file.DisplayName}: variable '{images.Name}' row {n + 1}, column {column + 1} is {value}; pixels must be finite numbers"));
                    }
                    features[n * PixelCount + target] = (float)value;
                }
            }
        }
        return features;
    }
}
