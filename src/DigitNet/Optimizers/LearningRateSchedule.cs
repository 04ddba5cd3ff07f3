namespace DigitNet.Optimizers;

/// <summary>
/// Learning rate as a function of training progress. Progress is measured in epochs and may be
/// fractional, so warm-up advances every step while step decay changes at epoch boundaries.
/// </summary>
public sealed class LearningRateSchedule
{
    private readonly string _kind;
    private readonly double _baseRate, _warmup, _stepFactor;
    private readonly int _stepEvery, _epochs;

    /// <summary>
    /// Creates a schedule of kind <c>constant</c>, <c>step</c> (multiply by <paramref name="stepFactor"/>
    /// every <paramref name="stepEvery"/> epochs) or <c>cosine</c> (half a cosine from the base rate to 0
    /// over <paramref name="epochs"/>; Loshchilov and Hutter, https://arxiv.org/abs/1608.03983, without
    /// restarts), preceded by <paramref name="warmup"/> epochs of linear warm-up from 0.
    /// </summary>
    public LearningRateSchedule(string kind, double baseRate, int epochs, double warmup = 0, int stepEvery = 10, double stepFactor = 0.1)
    {
        if (kind is not ("constant" or "step" or "cosine"))
            throw new ArgumentException($"unknown learning-rate schedule '{kind}'; expected constant, step or cosine", nameof(kind));
        _kind = kind;
        _baseRate = baseRate;
        _epochs = Math.Max(epochs, 1);
        _warmup = warmup;
        _stepEvery = Math.Max(stepEvery, 1);
        _stepFactor = stepFactor;
    }

    /// <summary>
    /// The rate for a step of epoch <paramref name="epoch"/> (0-based); <paramref name="progress"/>
    /// is the number of epochs completed once this step is done (for example 0.5 halfway through
    /// the first epoch), so warm-up never yields a zero rate.
    /// </summary>
    public double RateAt(int epoch, double progress)
    {
        double rate = _kind switch
        {
            "step" => _baseRate * Math.Pow(_stepFactor, epoch / _stepEvery),
            "cosine" => _baseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min((double)epoch / _epochs, 1))),
            _ => _baseRate,
        };
        if (_warmup > 0 && progress < _warmup)
            rate *= progress / _warmup;
        return rate;
    }
}
