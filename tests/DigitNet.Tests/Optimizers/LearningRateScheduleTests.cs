using DigitNet.Optimizers;

namespace DigitNet.Tests.Optimizers;

public sealed class LearningRateScheduleTests
{
    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(7, 0.5)]
    [InlineData(1000, 0.5)]
    public void ConstantIgnoresEpoch(int epoch, double expected)
    {
        var schedule = new LearningRateSchedule("constant", 0.5, epochs: 10);

        Assert.Equal(expected, schedule.RateAt(epoch, epoch + 1), 1e-15);
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(9, 0.1)]
    [InlineData(10, 0.01)]
    [InlineData(19, 0.01)]
    [InlineData(20, 0.001)]
    [InlineData(25, 0.001)]
    public void StepDecaysEveryTenEpochs(int epoch, double expected)
    {
        var schedule = new LearningRateSchedule("step", 0.1, epochs: 30, stepEvery: 10, stepFactor: 0.1);

        Assert.Equal(expected, schedule.RateAt(epoch, epoch + 1), 1e-15);
    }

    /// <summary><c>rate = base (1 + cos(pi epoch / epochs)) / 2</c>, held at 0 after the last epoch.</summary>
    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(2, 0.90450849718747373)]
    [InlineData(5, 0.5)]
    [InlineData(8, 0.09549150281252629)]
    [InlineData(10, 0.0)]
    [InlineData(12, 0.0)]
    public void CosineFallsToZero(int epoch, double expected)
    {
        var schedule = new LearningRateSchedule("cosine", 1.0, epochs: 10);

        Assert.Equal(expected, schedule.RateAt(epoch, epoch + 1), 1e-12);
    }

    [Theory]
    [InlineData(0.25, 0.125)]
    [InlineData(1.0, 0.5)]
    [InlineData(1.5, 0.75)]
    [InlineData(2.0, 1.0)]
    [InlineData(3.0, 1.0)]
    public void WarmupRisesLinearly(double progress, double expected)
    {
        var schedule = new LearningRateSchedule("constant", 1.0, epochs: 10, warmup: 2);

        Assert.Equal(expected, schedule.RateAt((int)Math.Floor(progress - 1e-9), progress), 1e-15);
    }

    [Fact]
    public void WarmupScalesCosine()
    {
        var schedule = new LearningRateSchedule("cosine", 1.0, epochs: 10, warmup: 2);

        double rate = schedule.RateAt(1, 1.5);

        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 0.1)) * 0.75, rate, 1e-15);
    }

    [Fact]
    public void UnknownKindThrows()
    {
        var error = Assert.Throws<ArgumentException>(() => new LearningRateSchedule("linear", 0.1, epochs: 10));

        Assert.Contains("linear", error.Message);
    }
}
