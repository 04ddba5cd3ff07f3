using DigitNet.Tensors;

namespace DigitNet.Training;

/// <summary>
/// The independent generators of one run, all derived from its seed, one per purpose, so that
/// turning on dropout or augmentation does not change the initial weights or the sample order.
/// </summary>
public sealed class RunRandom(ulong seed)
{
    public RandomSource Initialization { get; } = new(seed, stream: 1);
    public RandomSource Shuffle { get; } = new(seed, stream: 2);
    public RandomSource Dropout { get; } = new(seed, stream: 3);
    public RandomSource Augmentation { get; } = new(seed, stream: 4);
}
