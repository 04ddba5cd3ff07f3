using System.Globalization;
using System.Text;
using DigitNet.Layers;
using DigitNet.Tensors;

namespace DigitNet.Tests.TestUtil;

/// <summary>
/// Layer output in double precision: <paramref name="x"/> is the flat input <c>[N, ..InputShape]</c>,
/// <paramref name="parameters"/> contains one array per entry of <see cref="Layer.Parameters"/> in the same
/// order, and the result is the flat output <c>[N, ..OutputShape]</c>. It must not modify its arguments.
/// </summary>
public delegate double[] ReferenceForward(double[] x, IReadOnlyList<double[]> parameters);

/// <summary>
/// Central-difference gradient checks of float32 analytic gradients against a double-precision
/// reference. <see cref="CheckLayer"/> covers any <see cref="Layer"/> given a naive reference forward.
/// <see cref="CentralDifferences"/> and <see cref="Compare"/> are the building blocks for anything
/// else with a scalar objective, such as a loss or a whole network.
/// </summary>
/// <remarks>
/// Errors are norm-based, <c>||a - e|| / (||a|| + ||e||)</c> over one named tensor (0 when both are
/// zero). A float32 gradient element that is a sum of terms cancelling to nearly zero carries an
/// absolute error of about <c>1e-7</c> times the size of the terms, so an element-wise relative
/// error would fail on correct code. A single wrong element in a tensor of a thousand still gives
/// an error of order 1e-2, far above the tolerance.
/// </remarks>
public static class GradientCheck
{
    /// <summary>Step of the central differences, relative to <c>max(1, |x|)</c>.</summary>
    public const double DefaultStep = 1e-6;

    /// <summary>Largest accepted error of an analytic gradient.</summary>
    public const double DefaultGradientTolerance = 1e-4;

    /// <summary>Largest accepted error of a float32 forward pass against its double reference.</summary>
    public const double DefaultForwardTolerance = 1e-5;

    /// <summary>
    /// Runs <paramref name="layer"/> forward on <paramref name="x"/> and backward with a random
    /// <c>dy = R</c> (uniform in [-1, 1]), then compares the output with <paramref name="reference"/>
    /// and <c>dx</c> and every parameter gradient with central differences of
    /// <c>L = sum(R * reference(x, parameters))</c>. The parameters are checked at their current
    /// values, so the caller sets them first.
    /// </summary>
    /// <remarks>
    /// The reference is first called after the layer's forward pass, so it may read state that the
    /// pass drew, such as a dropout mask. Parameters of kind <see cref="ParameterKind.Statistic"/>
    /// are passed to the reference but not checked, because no loss gradient flows into them.
    /// </remarks>
    public static GradientReport CheckLayer(
        Layer layer, Tensor x, ReferenceForward reference, RandomSource random, bool training = false,
        double step = DefaultStep, double gradientTolerance = DefaultGradientTolerance,
        double forwardTolerance = DefaultForwardTolerance)
    {
        // Analytic side, in float32. The layer reuses its buffers, so copy what it returns.
        var y = layer.Forward(x, training);
        var yShape = y.Shape;
        float[] yValues = y.Span.ToArray();
        var dy = RandomTensor(yShape, random);
        var dxTensor = layer.Backward(dy);
        float[]? dx = dxTensor?.Span.ToArray();
        if (dxTensor is not null && dxTensor.Shape != x.Shape)
            throw new InvalidOperationException($"{layer.Name}: dx has shape {dxTensor.Shape}, expected the input shape {x.Shape}");

        // Reference side, in double, at exactly the float32 values the layer saw.
        double[] input = ToDouble(x.Span);
        var parameters = layer.Parameters;
        var parameterValues = parameters.Select(p => ToDouble(p.Value)).ToArray();
        double[] outputWeights = ToDouble(dy.Span);
        double Objective() => Dot(outputWeights, reference(input, parameterValues));

        var report = new GradientReport(layer.Name);
        report.Add(Compare("output", yValues, reference(input, parameterValues), forwardTolerance, yShape));
        if (dx is not null)
            report.Add(Compare("input", dx, CentralDifferences(Objective, input, step), gradientTolerance, x.Shape));
        for (int i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            if (parameter.Kind == ParameterKind.Statistic) continue;
            double[] numerical = CentralDifferences(Objective, parameterValues[i], step);
            report.Add(Compare(parameter.Name, parameter.Gradient, numerical, gradientTolerance, parameter.Shape));
        }
        return report;
    }

    /// <summary>
    /// Returns <c>d objective / d point[i]</c> for every i by central differences with step
    /// <c>step * max(1, |point[i]|)</c>. Each element is perturbed in place and restored.
    /// </summary>
    public static double[] CentralDifferences(Func<double> objective, double[] point, double step = DefaultStep)
    {
        var gradient = new double[point.Length];
        for (int i = 0; i < point.Length; i++)
        {
            double saved = point[i];
            double h = step * Math.Max(1, Math.Abs(saved));
            double up = saved + h, down = saved - h;

            point[i] = up;
            double above = objective();
            point[i] = down;
            double below = objective();
            point[i] = saved;

            // Divide by the difference of the points actually evaluated, which rounding can make differ from 2h.
            gradient[i] = (above - below) / (up - down);
        }
        return gradient;
    }

    /// <summary>
    /// Compares a float32 result with its double reference. The flat index of the largest absolute
    /// difference is reported as a multi-index of <paramref name="shape"/> when one is given.
    /// </summary>
    public static GradientComparison Compare(
        string name, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double tolerance,
        TensorShape? shape = null)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"{name}: {actual.Length} analytic values but {expected.Length} reference values");

        double diffSquares = 0, actualSquares = 0, expectedSquares = 0, worst = -1;
        int worstIndex = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double diff = actual[i] - expected[i];
            if (!double.IsFinite(diff)) diff = double.PositiveInfinity;
            diffSquares += diff * diff;
            actualSquares += (double)actual[i] * actual[i];
            expectedSquares += expected[i] * expected[i];
            if (Math.Abs(diff) > worst)
            {
                worst = Math.Abs(diff);
                worstIndex = i;
            }
        }

        double scale = Math.Sqrt(actualSquares) + Math.Sqrt(expectedSquares);
        double error = diffSquares == 0 ? 0 : Math.Sqrt(diffSquares) / scale;
        if (double.IsNaN(error)) error = double.PositiveInfinity;
        return worstIndex < 0
            ? new GradientComparison(name, 0, tolerance, "", 0, 0)
            : new GradientComparison(name, error, tolerance, FormatIndex(worstIndex, shape),
                actual[worstIndex], expected[worstIndex]);
    }

    /// <summary>A tensor of the given shape filled uniformly from [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor RandomTensor(TensorShape shape, RandomSource random, double low = -1, double high = 1)
    {
        var tensor = new Tensor(shape);
        Fill(tensor.Span, random, low, high);
        return tensor;
    }

    /// <summary>Fills <paramref name="values"/> uniformly from [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static void Fill(Span<float> values, RandomSource random, double low = -1, double high = 1)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)random.Uniform(low, high);
    }

    /// <summary>Widens float32 values to double exactly.</summary>
    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>The dot product of two equally long vectors.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"dot product of vectors of lengths {a.Length} and {b.Length}");
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static string FormatIndex(int flatIndex, TensorShape? shape)
    {
        if (shape is not { Rank: > 0 } s || flatIndex >= s.Size)
            return $"[{flatIndex}]";
        var dims = new int[s.Rank];
        int rest = flatIndex;
        for (int axis = s.Rank - 1; axis >= 0; axis--)
        {
            dims[axis] = rest % s[axis];
            rest /= s[axis];
        }
        return "[" + string.Join(", ", dims) + "]";
    }
}

/// <summary>
/// The comparison of one named tensor: its norm-based relative error and the element with the
/// largest absolute difference (<paramref name="WorstIndex"/>, with the values found there).
/// </summary>
public sealed record GradientComparison(
    string Name, double RelativeError, double Tolerance, string WorstIndex, double Analytic, double Reference)
{
    /// <summary>True when the error is within the tolerance.</summary>
    public bool Passed => RelativeError <= Tolerance;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name}: relative error {RelativeError:E2} (tolerance {Tolerance:E0}){(Passed ? "" : " FAILED")}, " +
        $"largest difference at {Name}{WorstIndex}: analytic {Analytic:G9}, reference {Reference:G9}");
}

/// <summary>The comparisons of one gradient check, with an assertion that names every failure.</summary>
public sealed class GradientReport(string subject)
{
    private readonly List<GradientComparison> _comparisons = [];

    /// <summary>What was checked, such as the layer name.</summary>
    public string Subject { get; } = subject;

    public IReadOnlyList<GradientComparison> Comparisons => _comparisons;

    /// <summary>The largest relative error of any compared tensor.</summary>
    public double MaxError => _comparisons.Count == 0 ? 0 : _comparisons.Max(c => c.RelativeError);

    public void Add(GradientComparison comparison) => _comparisons.Add(comparison);

    /// <summary>Fails the test unless every comparison is within its tolerance. The message lists them all.</summary>
    public void AssertPassed()
    {
        Assert.True(_comparisons.Count > 0, $"{Subject}: the gradient check compared nothing");
        Assert.True(_comparisons.All(c => c.Passed), $"gradient check of {Subject} failed:{Environment.NewLine}{this}");
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var comparison in _comparisons) text.Append("  ").AppendLine(comparison.ToString());
        return text.ToString();
    }
}
