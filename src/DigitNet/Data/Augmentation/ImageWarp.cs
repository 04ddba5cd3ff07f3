using DigitNet.Tensors;

namespace DigitNet.Data.Augmentation;

/// <summary>
/// Bilinear resampling of image planes, the step shared by the affine and elastic augmentations
/// and the fixed rotated copies. Each output pixel reads the source at a real-valued position;
/// neighbours outside the image count as 0, the blank background of raw pixel values.
/// </summary>
internal static class ImageWarp
{
    /// <summary>
    /// Bilinear value of <paramref name="plane"/> (<c>[height, width]</c>, row-major) at row
    /// <paramref name="y"/>, column <paramref name="x"/>.
    /// </summary>
    public static float Sample(ReadOnlySpan<float> plane, int height, int width, double y, double x)
    {
        // Far outside: skip the floor and the four tests.
        if (!(y > -1 && y < height && x > -1 && x < width)) return 0;

        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        float fx = (float)(x - x0), fy = (float)(y - y0);
        float top = (1 - fx) * Pixel(plane, height, width, y0, x0) + fx * Pixel(plane, height, width, y0, x0 + 1);
        float bottom = (1 - fx) * Pixel(plane, height, width, y0 + 1, x0) + fx * Pixel(plane, height, width, y0 + 1, x0 + 1);
        return (1 - fy) * top + fy * bottom;
    }

    private static float Pixel(ReadOnlySpan<float> plane, int height, int width, int y, int x) =>
        (uint)y < (uint)height && (uint)x < (uint)width ? plane[y * width + x] : 0f;

    /// <summary>
    /// Writes every channel of <paramref name="destination"/> as <paramref name="source"/> seen
    /// through the inverse affine map <c>source position = A * (p - centre - shift) + centre</c>,
    /// where <c>p = (x, y)</c> is the output pixel and the centre is that of the image.
    /// <c>A = [[a, b], [c, d]]</c> maps (x, y) offsets.
    /// </summary>
    public static void Affine(ReadOnlySpan<float> source, Span<float> destination, TensorShape shape,
        double a, double b, double c, double d, double shiftX, double shiftY)
    {
        int channels = shape[0], height = shape[1], width = shape[2];
        int plane = height * width;
        double centreX = (width - 1) / 2.0, centreY = (height - 1) / 2.0;
        for (int channel = 0; channel < channels; channel++)
        {
            var input = source.Slice(channel * plane, plane);
            var output = destination.Slice(channel * plane, plane);
            for (int y = 0; y < height; y++)
            {
                double v = y - centreY - shiftY;
                for (int x = 0; x < width; x++)
                {
                    double u = x - centreX - shiftX;
                    double sourceX = a * u + b * v + centreX;
                    double sourceY = c * u + d * v + centreY;
                    output[y * width + x] = Sample(input, height, width, sourceY, sourceX);
                }
            }
        }
    }

    /// <summary>
    /// The inverse map coefficients of a rotation by <paramref name="degrees"/> (counter-clockwise
    /// as displayed, with rows growing downwards) followed by a scaling by <paramref name="scale"/>.
    /// </summary>
    public static (double A, double B, double C, double D) InverseRotationScale(double degrees, double scale)
    {
        // Forward: (u', v') = s * (u cos t + v sin t, -u sin t + v cos t); its inverse follows.
        double radians = degrees * Math.PI / 180;
        double cos = Math.Cos(radians) / scale, sin = Math.Sin(radians) / scale;
        return (cos, -sin, sin, cos);
    }

    /// <summary>Throws unless <paramref name="shape"/> is an image sample <c>[C, H, W]</c>.</summary>
    public static void CheckImageShape(TensorShape shape, string what)
    {
        if (shape.Rank != 3 || shape.Size == 0)
            throw new ArgumentException($"{what} needs image samples [C, H, W], got {shape}");
    }

    /// <summary>Throws unless the source and destination hold one sample of <paramref name="shape"/> each.</summary>
    public static void CheckSpans(int sourceLength, int destinationLength, TensorShape shape, string what)
    {
        if (sourceLength != shape.Size || destinationLength != shape.Size)
            throw new ArgumentException($"{what}: expected one sample of {shape} ({shape.Size} values), got source {sourceLength} and destination {destinationLength}");
    }
}
