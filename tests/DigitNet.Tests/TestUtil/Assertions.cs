using System.Globalization;

namespace DigitNet.Tests.TestUtil;

/// <summary>
/// Element-wise comparisons of float results whose failure messages name the worst element, its
/// index and both values, so a failing kernel test points at the element to debug.
/// </summary>
public static class Assertions
{
    /// <summary>
    /// Asserts that every element satisfies <c>|actual - expected| &lt;= absoluteTolerance + relativeTolerance * |expected|</c>.
    /// NaN matches only NaN, and an infinity matches only the same infinity.
    /// </summary>
    /// <param name="what">Name of the compared quantity, used as the message prefix, for example "C of 7x33x17 NT".</param>
    public static void AllClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual,
        double absoluteTolerance, double relativeTolerance, string what)
    {
        double[] widened = new double[expected.Length];
        for (int i = 0; i < expected.Length; i++)
            widened[i] = expected[i];
        AllClose(widened, actual, absoluteTolerance, relativeTolerance, what);
    }

    /// <summary>
    /// Asserts that float results match a double-precision reference within
    /// <c>absoluteTolerance + relativeTolerance * |expected|</c>, element by element.
    /// NaN matches only NaN, and an infinity matches only the same infinity.
    /// </summary>
    /// <param name="what">Name of the compared quantity, used as the message prefix.</param>
    public static void AllClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual,
        double absoluteTolerance, double relativeTolerance, string what)
    {
        if (expected.Length != actual.Length)
            Assert.Fail($"{what}: expected {expected.Length} elements, got {actual.Length}");

        int failures = 0;
        int worstIndex = -1;
        double worstExcess = 0;
        double largestDifference = 0;
        int largestDifferenceIndex = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i];
            double a = actual[i];
            bool sameSpecial = (double.IsNaN(e) && double.IsNaN(a)) || (double.IsInfinity(e) && e == a);
            double difference = sameSpecial ? 0 : Math.Abs(a - e);
            if (double.IsNaN(difference))
                difference = double.PositiveInfinity;

            if (difference > largestDifference || largestDifferenceIndex < 0)
            {
                largestDifference = difference;
                largestDifferenceIndex = i;
            }

            double allowed = absoluteTolerance + relativeTolerance * Math.Abs(e);
            if (difference > allowed)
            {
                failures++;
                double excess = allowed > 0 ? difference / allowed : double.PositiveInfinity;
                if (worstIndex < 0 || excess > worstExcess)
                {
                    worstExcess = excess;
                    worstIndex = i;
                }
            }
        }

        if (failures == 0)
            return;

        Assert.Fail(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {failures} of {expected.Length} elements differ by more than {absoluteTolerance:G3} + {relativeTolerance:G3} * |expected|. " +
            $"Worst relative to its tolerance: index {worstIndex}, expected {expected[worstIndex]:G9}, actual {actual[worstIndex]:G9}. " +
            $"Largest difference: {largestDifference:G3} at index {largestDifferenceIndex}."));
    }

    /// <summary>
    /// Asserts that two float sequences have identical bits, for results that must not depend on
    /// threading or scheduling. The message gives the count and the first differing index.
    /// </summary>
    /// <param name="what">Name of the compared quantity, used as the message prefix.</param>
    public static void BitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length)
            Assert.Fail($"{what}: expected {expected.Length} elements, got {actual.Length}");

        int differences = 0;
        int first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                differences++;
                if (first < 0)
                    first = i;
            }
        }

        if (differences > 0)
        {
            Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                $"{what}: {differences} of {expected.Length} elements differ in their bits; first at index {first}, " +
                $"expected {expected[first]:G9}, actual {actual[first]:G9}"));
        }
    }
}
