using DigitNet.Tensors;

namespace DigitNet.Data.Augmentation;

/// <summary>
/// Elastic distortion (Simard, Steinkraus and Platt, "Best practices for convolutional neural
/// networks applied to visual document analysis", ICDAR 2003): two random displacement fields
/// with values uniform in [-1, 1] per pixel, smoothed by a Gaussian of standard deviation
/// <see cref="Sigma"/> pixels and scaled by <see cref="Alpha"/>, move every output pixel's sampling
/// position; the image is resampled bilinearly. Small sigma gives noise-like jitter and large sigma
/// almost a translation; Simard et al. use sigma 4 and alpha 34 on 28x28 digits.
/// Works on raw pixel values with a background of 0, like <see cref="AffineAugmentation"/>.
/// </summary>
public sealed class ElasticDistortion : IAugmentation
{
    private readonly TensorShape _shape;
    private readonly float[] _kernel;
    private readonly float[] _fieldX, _fieldY, _scratch;

    /// <exception cref="ArgumentException">The sample shape is not <c>[C, H, W]</c>, or alpha or sigma is not positive.</exception>
    public ElasticDistortion(TensorShape sampleShape, double alpha, double sigma)
    {
        ImageWarp.CheckImageShape(sampleShape, "elastic distortion");
        if (!(alpha >= 0 && double.IsFinite(alpha)))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be a finite number of pixels, 0 or more");
        if (!(sigma > 0 && double.IsFinite(sigma)))
            throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be a positive number of pixels");
        _shape = sampleShape;
        Alpha = alpha;
        Sigma = sigma;
        _kernel = GaussianKernel(sigma);
        int plane = sampleShape[1] * sampleShape[2];
        _fieldX = new float[plane];
        _fieldY = new float[plane];
        _scratch = new float[plane];
    }

    /// <summary>Scale of the smoothed displacement field, in pixels.</summary>
    public double Alpha { get; }

    /// <summary>Standard deviation of the Gaussian that smooths the field, in pixels.</summary>
    public double Sigma { get; }

    /// <summary>Draws the x field and then the y field (row-major, one value per pixel) and warps the sample.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, RandomSource random)
    {
        ImageWarp.CheckSpans(source.Length, destination.Length, _shape, "elastic distortion");
        int height = _shape[1], width = _shape[2];
        DrawField(_fieldX, random, height, width);
        DrawField(_fieldY, random, height, width);

        int plane = height * width;
        for (int channel = 0; channel < _shape[0]; channel++)
        {
            var input = source.Slice(channel * plane, plane);
            var output = destination.Slice(channel * plane, plane);
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    int i = y * width + x;
                    output[i] = ImageWarp.Sample(input, height, width, y + _fieldY[i], x + _fieldX[i]);
                }
            }
        }
    }

    /// <summary>Fills <paramref name="field"/> with uniform noise, smooths it with the separable Gaussian and scales it by alpha.</summary>
    private void DrawField(float[] field, RandomSource random, int height, int width)
    {
        for (int i = 0; i < field.Length; i++) field[i] = (float)random.Uniform(-1, 1);

        // Rows into the scratch buffer, then columns back; the field is 0 beyond the image.
        int radius = _kernel.Length / 2;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float sum = 0;
                for (int k = -radius; k <= radius; k++)
                {
                    int xx = x + k;
                    if ((uint)xx < (uint)width) sum += _kernel[k + radius] * field[y * width + xx];
                }
                _scratch[y * width + x] = sum;
            }
        }
        float alpha = (float)Alpha;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float sum = 0;
                for (int k = -radius; k <= radius; k++)
                {
                    int yy = y + k;
                    if ((uint)yy < (uint)height) sum += _kernel[k + radius] * _scratch[yy * width + x];
                }
                field[y * width + x] = alpha * sum;
            }
        }
    }

    /// <summary>A normalised 1-D Gaussian of standard deviation <paramref name="sigma"/>, cut at 3 sigma.</summary>
    private static float[] GaussianKernel(double sigma)
    {
        int radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var kernel = new float[2 * radius + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++) sum += Math.Exp(-k * k / (2 * sigma * sigma));
        for (int k = -radius; k <= radius; k++) kernel[k + radius] = (float)(Math.Exp(-k * k / (2 * sigma * sigma)) / sum);
        return kernel;
    }
}
