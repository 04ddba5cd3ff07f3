using System.Collections.Immutable;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;

namespace DigitNet.Data;

/// <summary>Ways of scaling raw pixel values (0..255) before they enter a network.</summary>
public enum PreprocessingKind
{
    /// <summary>Raw values, unchanged.</summary>
    None,

    /// <summary><c>x / 255</c>, so 8-bit pixels span 0..1.</summary>
    Scale255,

    /// <summary><c>x / 255 * 0.99 + 0.01</c>, so 8-bit pixels span 0.01..1.0 and no input is exactly zero.</summary>
    Classic,

    /// <summary><c>(x - mean) / std</c> per pixel, with mean and std fitted on the training split.</summary>
    Standardize,
}

/// <summary>
/// Input scaling fitted on a training split, applied the same way to every split and at
/// inference. It is immutable and serialises to JSON so that a model file can carry it, for
/// example <c>{"kind":"standardize","mean":[...],"std":[...]}</c> or <c>{"kind":"scale255"}</c>.
/// </summary>
/// <remarks>
/// <see cref="PreprocessingKind.Standardize"/> uses the population standard deviation of each
/// pixel over the training samples. A pixel whose standard deviation is below
/// <see cref="ConstantThreshold"/> counts as constant and gets a std of 1, as scikit-learn's
/// StandardScaler does, so that it is only centred and never divided by (almost) zero. A pixel
/// that is rarely inked in training keeps its small std, so ink there at inference can scale to
/// large values; <see cref="PreprocessingKind.Scale255"/> has no such effect.
/// </remarks>
public sealed record Preprocessing
{
    /// <summary>Standard deviation below which a pixel counts as constant; its std is then stored as 1.</summary>
    public const float ConstantThreshold = 1e-3f;

    private static readonly string[] KindNames = ["none", "scale255", "classic", "standardize"];

    private Preprocessing(PreprocessingKind kind, ImmutableArray<float> mean, ImmutableArray<float> std)
    {
        Kind = kind;
        Mean = mean;
        Std = std;
    }

    /// <summary>The scaling rule.</summary>
    public PreprocessingKind Kind { get; }

    /// <summary>Per-pixel mean subtracted by <see cref="PreprocessingKind.Standardize"/>; empty for other kinds.</summary>
    public ImmutableArray<float> Mean { get; }

    /// <summary>Per-pixel divisor used by <see cref="PreprocessingKind.Standardize"/> (always positive); empty for other kinds.</summary>
    public ImmutableArray<float> Std { get; }

    /// <summary>The JSON name of <see cref="Kind"/>: none, scale255, classic or standardize.</summary>
    public string KindName => KindNames[(int)Kind];

    /// <summary>
    /// Creates a preprocessing of <paramref name="kind"/>. Only <see cref="PreprocessingKind.Standardize"/>
    /// reads <paramref name="train"/>: it fits the per-pixel mean and std on its features.
    /// </summary>
    /// <exception cref="ArgumentException">The training split is empty or its features are not finite.</exception>
    public static Preprocessing Fit(PreprocessingKind kind, Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        return kind == PreprocessingKind.Standardize ? FitStandardize(train) : Create(kind);
    }

    /// <summary>Creates a preprocessing that needs no fitting: none, scale255 or classic.</summary>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is <see cref="PreprocessingKind.Standardize"/>, which must be fitted.</exception>
    public static Preprocessing Create(PreprocessingKind kind)
    {
        if (kind == PreprocessingKind.Standardize)
            throw new ArgumentException("standardize needs the training split to fit mean and std; call Preprocessing.Fit");
        if (!Enum.IsDefined(kind))
            throw new ArgumentException($"invalid preprocessing kind {(int)kind}");
        return new Preprocessing(kind, [], []);
    }

    private static Preprocessing FitStandardize(Dataset train)
    {
        if (train.Count == 0)
            throw new ArgumentException($"{train.Name}: cannot fit standardize on an empty split");

        int size = train.SampleShape.Size;
        var sum = new double[size];
        var sumOfSquares = new double[size];
        for (int n = 0; n < train.Count; n++)
        {
            var sample = train.Sample(n);
            for (int i = 0; i < size; i++)
            {
                double x = sample[i];
                sum[i] += x;
                sumOfSquares[i] += x * x;
            }
        }

        var mean = new float[size];
        var std = new float[size];
        for (int i = 0; i < size; i++)
        {
            double m = sum[i] / train.Count;

            // E[x^2] - m^2 loses digits when m is large, so clamp the tiny negatives it can produce.
            double variance = Math.Max(0, sumOfSquares[i] / train.Count - m * m);
            double s = Math.Sqrt(variance);
            if (!double.IsFinite(m) || !double.IsFinite(s))
                throw new ArgumentException($"{train.Name}: pixel {i} has a non-finite mean or std; the features contain NaN or infinite values");

            mean[i] = (float)m;
            std[i] = s < ConstantThreshold ? 1f : (float)s;
        }

        return new Preprocessing(PreprocessingKind.Standardize, ImmutableArray.Create(mean), ImmutableArray.Create(std));
    }

    /// <summary>Returns a new data set with scaled features; <paramref name="data"/> is not changed.</summary>
    /// <exception cref="ArgumentException">The samples do not have the size the standardization was fitted on.</exception>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckSampleSize(data.SampleShape.Size, data.Name);

        var features = (float[])data.Features.Clone();
        if (Kind == PreprocessingKind.Standardize)
        {
            int size = data.SampleShape.Size;
            for (int n = 0; n < data.Count; n++)
                ApplyInPlace(features.AsSpan(n * size, size));
        }
        else
        {
            ApplyInPlace(features);
        }
        return data.WithFeatures(features);
    }

    /// <summary>Scales one sample in place, for inference.</summary>
    /// <exception cref="ArgumentException">The sample does not have the size the standardization was fitted on.</exception>
    public void Apply(Span<float> sample)
    {
        CheckSampleSize(sample.Length, "sample");
        ApplyInPlace(sample);
    }

    // For kinds other than standardize, values may span several samples because the rule is per value.
    private void ApplyInPlace(Span<float> values)
    {
        switch (Kind)
        {
            case PreprocessingKind.None:
                break;
            case PreprocessingKind.Scale255:
                TensorPrimitives.Divide(values, 255f, values);
                break;
            case PreprocessingKind.Classic:
                TensorPrimitives.Divide(values, 255f, values);
                TensorPrimitives.Multiply(values, 0.99f, values);
                TensorPrimitives.Add(values, 0.01f, values);
                break;
            case PreprocessingKind.Standardize:
                TensorPrimitives.Subtract(values, Mean.AsSpan(), values);
                TensorPrimitives.Divide(values, Std.AsSpan(), values);
                break;
        }
    }

    private void CheckSampleSize(int size, string what)
    {
        if (Kind == PreprocessingKind.Standardize && size != Mean.Length)
            throw new ArgumentException($"{what}: standardize was fitted on samples of {Mean.Length} values, got {size}");
    }

    /// <summary>Parses a kind name: none, scale255, classic or standardize (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is none of these.</exception>
    public static PreprocessingKind ParseKind(string name)
    {
        int index = Array.FindIndex(KindNames, k => string.Equals(k, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (index < 0)
            throw new ArgumentException($"invalid preprocessing kind '{name}'; expected one of: {string.Join(", ", KindNames)}");
        return (PreprocessingKind)index;
    }

    /// <summary>Writes this preprocessing as one JSON object, for embedding in a larger document.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("kind", KindName);
        if (Kind == PreprocessingKind.Standardize)
        {
            writer.WriteStartArray("mean");
            foreach (float m in Mean) writer.WriteNumberValue(m);
            writer.WriteEndArray();

            writer.WriteStartArray("std");
            foreach (float s in Std) writer.WriteNumberValue(s);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    /// <summary>Returns this preprocessing as compact JSON. Floats are written in their shortest round-trip form, so <see cref="FromJson(string)"/> restores them exactly.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteJson(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads a preprocessing written by <see cref="ToJson"/>.</summary>
    /// <exception cref="DataFormatException">The text is not valid JSON or not a valid preprocessing object.</exception>
    public static Preprocessing FromJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return FromJson(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"preprocessing JSON: invalid JSON ({e.Message})", e);
        }
    }

    /// <summary>Reads a preprocessing from a JSON object written by <see cref="WriteJson"/>. Unknown keys are ignored.</summary>
    /// <exception cref="DataFormatException">The element is not a valid preprocessing object.</exception>
    public static Preprocessing FromJson(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new DataFormatException($"preprocessing JSON: expected an object such as {{\"kind\":\"scale255\"}}, got {json.ValueKind}");
        if (!json.TryGetProperty("kind", out var kindElement) || kindElement.ValueKind != JsonValueKind.String)
            throw new DataFormatException($"preprocessing JSON: missing string key \"kind\" (one of: {string.Join(", ", KindNames)})");

        PreprocessingKind kind;
        try
        {
            kind = ParseKind(kindElement.GetString()!);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException($"preprocessing JSON: {e.Message}", e);
        }

        bool hasMean = json.TryGetProperty("mean", out var meanElement);
        bool hasStd = json.TryGetProperty("std", out var stdElement);
        if (kind != PreprocessingKind.Standardize)
        {
            if (hasMean || hasStd)
                throw new DataFormatException($"preprocessing JSON: kind \"{KindNames[(int)kind]}\" takes no \"mean\" or \"std\"; only \"standardize\" does");
            return Create(kind);
        }

        if (!hasMean || !hasStd)
            throw new DataFormatException("preprocessing JSON: kind \"standardize\" needs both \"mean\" and \"std\" arrays");
        var mean = ReadFloatArray(meanElement, "mean");
        var std = ReadFloatArray(stdElement, "std");
        if (mean.Length != std.Length || mean.Length == 0)
            throw new DataFormatException($"preprocessing JSON: \"mean\" has {mean.Length} values and \"std\" has {std.Length}; both need the same non-zero length");
        int badStd = Array.FindIndex(std, s => !(s > 0));
        if (badStd >= 0)
            throw new DataFormatException($"preprocessing JSON: \"std\"[{badStd}] is {std[badStd]}; every std must be positive");

        return new Preprocessing(PreprocessingKind.Standardize, ImmutableArray.Create(mean), ImmutableArray.Create(std));
    }

    private static float[] ReadFloatArray(JsonElement element, string key)
    {
        if (element.ValueKind != JsonValueKind.Array)
            throw new DataFormatException($"preprocessing JSON: \"{key}\" must be an array of numbers, got {element.ValueKind}");

        var values = new float[element.GetArrayLength()];
        int i = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out float value) || !float.IsFinite(value))
                throw new DataFormatException($"preprocessing JSON: \"{key}\"[{i}] is {item.GetRawText()}, not a finite float");
            values[i++] = value;
        }
        return values;
    }

    public bool Equals(Preprocessing? other) =>
        other is not null && Kind == other.Kind && Mean.AsSpan().SequenceEqual(other.Mean.AsSpan()) && Std.AsSpan().SequenceEqual(other.Std.AsSpan());

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Kind);
        foreach (float m in Mean) hash.Add(m);
        foreach (float s in Std) hash.Add(s);
        return hash.ToHashCode();
    }

    /// <summary>Formats as <c>standardize (256 values)</c> or the kind name alone.</summary>
    public override string ToString() => Kind == PreprocessingKind.Standardize ? $"{KindName} ({Mean.Length} values)" : KindName;
}
