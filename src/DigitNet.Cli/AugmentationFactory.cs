using DigitNet.Data;
using DigitNet.Data.Augmentation;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>Creates the on-the-fly augmentation that the options ask for.</summary>
public static class AugmentationFactory
{
    /// <summary>
    /// Scale of the elastic displacement field, in pixels. With <see cref="ElasticSigma"/> the
    /// displacement has a standard deviation of about 0.7 px over a 16x16 image (0.8 px at its
    /// centre, measured over 2000 draws), which is the setting of Simard et al. (2003) on 28x28
    /// digits (alpha 34, sigma 4) scaled down by 16/28.
    /// </summary>
    public const double ElasticAlpha = 11;

    /// <summary>Standard deviation of the Gaussian that smooths the elastic displacement field, in pixels.</summary>
    public const double ElasticSigma = 2.3;

    /// <summary>
    /// Returns null when <see cref="TrainingOptions.Augment"/> is <c>none</c>. Otherwise the
    /// affine transform (<c>--rotate</c>, <c>--translate</c>, <c>--scale</c>), the elastic
    /// distortion, or both in that order, applied to raw pixel values of each preprocessed sample
    /// (see <see cref="RawPixelAugmentation"/>).
    /// </summary>
    public static IAugmentation? Create(TrainingOptions options, Dataset train, Preprocessing preprocessing)
    {
        var shape = train.SampleShape;
        var steps = new List<IAugmentation>();
        switch (options.Augment)
        {
            case "none":
                return null;
            case "affine":
                steps.Add(new AffineAugmentation(shape, options.Rotate, options.Translate, options.Scale));
                break;
            case "elastic":
                steps.Add(new ElasticDistortion(shape, ElasticAlpha, ElasticSigma));
                break;
            case "affine+elastic":
                steps.Add(new AffineAugmentation(shape, options.Rotate, options.Translate, options.Scale));
                steps.Add(new ElasticDistortion(shape, ElasticAlpha, ElasticSigma));
                break;
            default:
                throw new UsageException($"--augment: invalid value '{options.Augment}'; expected none, affine, elastic or affine+elastic");
        }
        IAugmentation raw = steps.Count == 1 ? steps[0] : new AugmentationPipeline(shape, steps);
        return new RawPixelAugmentation(raw, preprocessing, shape);
    }
}
