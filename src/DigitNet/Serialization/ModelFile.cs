using System.Text;
using System.Text.Json;
using DigitNet.Data;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Tensors;

namespace DigitNet.Serialization;

/// <summary>
/// A model read from a file: the network with its weights, how to prepare its input, its loss,
/// its class names, and the JSON text that the writer stored about the training run (or null).
/// </summary>
public sealed record LoadedModel(
    Network Network,
    Preprocessing Preprocessing,
    Loss Loss,
    IReadOnlyList<string> ClassNames,
    string? TrainingSummary);

/// <summary>
/// DigitNet model files: one safetensors file whose tensors are the network's parameters, named as
/// the parameters are (<c>dense1.weight</c> of shape <c>[out, in]</c>), stored as F32, and whose
/// <c>__metadata__</c> contains everything else needed to rebuild and run the model, each value a
/// JSON text: <c>format</c>, <c>format_version</c>, <c>architecture</c>, <c>preprocessing</c>,
/// <c>labels</c>, <c>loss</c> and optionally <c>training</c>. Gradients and optimiser state are not
/// stored. docs/model-format.md describes the layout byte by byte.
/// </summary>
public static class ModelFile
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "digitnet";

    /// <summary>Value of the <c>format_version</c> metadata key that this build writes and reads.</summary>
    public const string FormatVersion = "1";

    /// <summary>
    /// Writes the model to <paramref name="path"/> atomically, so a crash leaves either the old file
    /// or the new one. <paramref name="trainingSummary"/> is optional JSON text about the training
    /// run, stored under the <c>training</c> key.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    public static void Save(string path, Network network, Preprocessing preprocessing, string lossName,
        IReadOnlyList<string> classNames, string? trainingSummary = null)
    {
        // Build everything that can fail on bad arguments before the file is touched.
        var metadata = BuildMetadata(network, preprocessing, lossName, classNames, trainingSummary);
        AtomicFileWriter.Write(path, stream => SafeTensors.Write(stream, ParameterTensors(network), metadata));
    }

    /// <summary>Writes the model to <paramref name="stream"/> from its current position, as <see cref="Save(string, Network, Preprocessing, string, IReadOnlyList{string}, string?)"/> does.</summary>
    public static void Save(Stream stream, Network network, Preprocessing preprocessing, string lossName,
        IReadOnlyList<string> classNames, string? trainingSummary = null)
    {
        var metadata = BuildMetadata(network, preprocessing, lossName, classNames, trainingSummary);
        SafeTensors.Write(stream, ParameterTensors(network), metadata);
    }

    private static List<SafeTensorData> ParameterTensors(Network network)
    {
        // The network stores its parameters back to back in this order, so each is a slice.
        var tensors = new List<SafeTensorData>();
        int offset = 0;
        foreach (var parameter in network.Parameters)
        {
            var shape = Enumerable.Range(0, parameter.Shape.Rank).Select(axis => parameter.Shape[axis]).ToArray();
            tensors.Add(new SafeTensorData(parameter.Name, shape, network.ParameterValues.AsMemory(offset, parameter.Length)));
            offset += parameter.Length;
        }
        return tensors;
    }

    private static Dictionary<string, string> BuildMetadata(Network network, Preprocessing preprocessing, string lossName,
        IReadOnlyList<string> classNames, string? trainingSummary)
    {
        Loss.FromName(lossName);
        if (classNames.Count != network.ClassCount)
            throw new ArgumentException($"{classNames.Count} class names given, the network scores {network.ClassCount} classes");
        if (trainingSummary is not null)
        {
            try
            {
                using var _ = JsonDocument.Parse(trainingSummary);
            }
            catch (JsonException e)
            {
                throw new ArgumentException($"the training summary must be JSON text: {e.Message}", nameof(trainingSummary), e);
            }
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = FormatName,
            ["format_version"] = FormatVersion,
            ["architecture"] = ArchitectureJson(network.Architecture),
            ["preprocessing"] = preprocessing.ToJson(),
            ["labels"] = JsonSerializer.Serialize(classNames),
            ["loss"] = lossName,
        };
        if (trainingSummary is not null) metadata["training"] = trainingSummary;
        return metadata;
    }

    /// <summary>The architecture as <c>{"input_shape":[1,16,16],"layers":["dense 50","sigmoid",...]}</c>.</summary>
    public static string ArchitectureJson(Architecture architecture)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("input_shape");
            for (int axis = 0; axis < architecture.InputShape.Rank; axis++) json.WriteNumberValue(architecture.InputShape[axis]);
            json.WriteEndArray();
            json.WriteStartArray("layers");
            foreach (var layer in architecture.Layers) json.WriteStringValue(layer.ToString());
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads and validates the model file at <paramref name="path"/>.</summary>
    /// <exception cref="ModelFormatException">The file is missing, is not a valid safetensors file, or does not describe a DigitNet model whose tensors match its architecture.</exception>
    public static LoadedModel Load(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        return Load(file);
    }

    /// <summary>Reads and validates a model from a seekable <paramref name="stream"/>; <paramref name="displayName"/> names it in errors.</summary>
    /// <exception cref="ModelFormatException">The content is not a valid DigitNet model file.</exception>
    public static LoadedModel Load(Stream stream, string displayName)
    {
        using var file = SafeTensorsFile.Open(stream, displayName, leaveOpen: true);
        return Load(file);
    }

    private static LoadedModel Load(SafeTensorsFile file)
    {
        string name = file.DisplayName;
        string format = RequireKey(file, "format");
        if (format != FormatName)
            throw new ModelFormatException($"{name}: metadata \"format\" is '{format}', expected '{FormatName}'; the file was not written by DigitNet");
        string version = RequireKey(file, "format_version");
        if (version != FormatVersion)
            throw new ModelFormatException($"{name}: format_version '{version}' is not supported; this build reads version {FormatVersion}");

        var architecture = ParseArchitecture(RequireKey(file, "architecture"), name);
        Network network;
        try
        {
            network = new Network(architecture);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ModelFormatException($"{name}: metadata \"architecture\" cannot be built: {e.Message}", e);
        }

        var classNames = ParseLabels(RequireKey(file, "labels"), name);
        if (classNames.Count != network.ClassCount)
            throw new ModelFormatException($"{name}: metadata \"labels\" has {classNames.Count} names, the architecture outputs {network.ClassCount} classes");

        Loss loss;
        string lossName = RequireKey(file, "loss");
        try
        {
            loss = Loss.FromName(lossName);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"{name}: metadata \"loss\": {e.Message}", e);
        }

        var preprocessing = ParsePreprocessing(RequireKey(file, "preprocessing"), network.InputShape, name);
        ReadParameters(file, network);
        string? training = file.Metadata.GetValueOrDefault("training");
        return new LoadedModel(network, preprocessing, loss, classNames, training);
    }

    private static string RequireKey(SafeTensorsFile file, string key) =>
        file.Metadata.TryGetValue(key, out string? value)
            ? value
            : throw new ModelFormatException(
                $"{file.DisplayName}: {SafeTensors.MetadataKey} has no \"{key}\" key; a DigitNet model file needs format, format_version, architecture, preprocessing, labels and loss");

    private static Architecture ParseArchitecture(string text, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("input_shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
                || !root.TryGetProperty("layers", out var layersElement) || layersElement.ValueKind != JsonValueKind.Array)
                throw new ModelFormatException($"{name}: metadata \"architecture\" must be an object with arrays \"input_shape\" and \"layers\"");

            var dimensions = new List<int>();
            foreach (var item in shapeElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int dimension) || dimension <= 0)
                    throw new ModelFormatException($"{name}: metadata \"architecture\": input_shape entry {item.GetRawText()} is not a positive integer");
                dimensions.Add(dimension);
            }
            if (dimensions.Count is < 1 or >= TensorShape.MaxRank)
                throw new ModelFormatException($"{name}: metadata \"architecture\": input_shape has {dimensions.Count} dimensions, expected 1 to {TensorShape.MaxRank - 1}");

            var layers = new List<LayerSpec>();
            foreach (var item in layersElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                    throw new ModelFormatException($"{name}: metadata \"architecture\": layer {item.GetRawText()} is not a string such as \"dense 50\"");
                layers.Add(LayerSpec.Parse(item.GetString()!));
            }
            return new Architecture(TensorShape.FromDimensions(dimensions.ToArray()), layers);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{name}: metadata \"architecture\" is not valid JSON: {e.Message}", e);
        }
        catch (FormatException e)
        {
            throw new ModelFormatException($"{name}: metadata \"architecture\": {e.Message}", e);
        }
    }

    private static List<string> ParseLabels(string text, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array || root.EnumerateArray().Any(item => item.ValueKind != JsonValueKind.String))
                throw new ModelFormatException($"{name}: metadata \"labels\" must be a JSON array of strings such as [\"0\",\"1\"]");
            return root.EnumerateArray().Select(item => item.GetString()!).ToList();
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{name}: metadata \"labels\" is not valid JSON: {e.Message}", e);
        }
    }

    private static Preprocessing ParsePreprocessing(string text, TensorShape inputShape, string name)
    {
        Preprocessing preprocessing;
        try
        {
            preprocessing = Preprocessing.FromJson(text);
        }
        catch (DataFormatException e)
        {
            throw new ModelFormatException($"{name}: metadata \"preprocessing\": {e.Message}", e);
        }
        if (preprocessing.Kind == PreprocessingKind.Standardize && preprocessing.Mean.Length != inputShape.Size)
        {
            throw new ModelFormatException(
                $"{name}: metadata \"preprocessing\" standardizes {preprocessing.Mean.Length} values, the architecture's input {inputShape} has {inputShape.Size}");
        }
        return preprocessing;
    }

    /// <summary>Checks that the tensors are exactly the network's parameters with their shapes, then reads them into the network.</summary>
    private static void ReadParameters(SafeTensorsFile file, Network network)
    {
        string name = file.DisplayName;
        foreach (var parameter in network.Parameters)
        {
            if (file.Find(parameter.Name) is null)
                throw new ModelFormatException($"{name}: tensor '{parameter.Name}' is missing; the architecture needs it with shape {parameter.Shape}");
        }
        foreach (var tensor in file.Tensors)
        {
            if (network.FindParameter(tensor.Name) is null)
            {
                throw new ModelFormatException(
                    $"{name}: tensor '{tensor.Name}' is not a parameter of the architecture, which has {string.Join(", ", network.Parameters.Select(p => p.Name))}");
            }
        }

        foreach (var parameter in network.Parameters)
        {
            var tensor = file.Find(parameter.Name)!;
            bool sameShape = tensor.Shape.Count == parameter.Shape.Rank
                && Enumerable.Range(0, parameter.Shape.Rank).All(axis => tensor.Shape[axis] == parameter.Shape[axis]);
            if (!sameShape)
                throw new ModelFormatException($"{name}: tensor '{parameter.Name}' has shape {tensor.ShapeText}, the architecture needs {parameter.Shape}");

            file.ReadSingles(tensor, parameter.Value);
            int bad = IndexOfNonFinite(parameter.Value);
            if (bad >= 0)
                throw new ModelFormatException($"{name}: tensor '{parameter.Name}' element {bad} is {parameter.Value[bad]}; weights must be finite");
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
        return -1;
    }
}
