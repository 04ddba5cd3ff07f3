using DigitNet.Data;
using DigitNet.Training;

namespace DigitNet.Cli;

/// <summary>Creates the on-the-fly augmentation that the options ask for.</summary>
public static class AugmentationFactory
{
    /// <summary>Returns null when <see cref="TrainingOptions.Augment"/> is <c>none</c>.</summary>
    public static IAugmentation? Create(TrainingOptions options, Dataset train, Preprocessing preprocessing)
    {
        if (options.Augment == "none") return null;
        throw new UsageException($"--augment {options.Augment}: augmentation is not available in this build");
    }
}
