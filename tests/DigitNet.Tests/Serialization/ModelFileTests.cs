using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using DigitNet.Data;
using DigitNet.Layers;
using DigitNet.Models;
using DigitNet.Serialization;
using DigitNet.Tensors;
using DigitNet.Tests.Data;
using DigitNet.Tests.TestUtil;
using DigitNet.Training;
using Xunit.Abstractions;

namespace DigitNet.Tests.Serialization;

public sealed class ModelFileTests
{
    private static readonly TensorShape DigitShape = new(1, 16, 16);

    private static Network RandomNetwork(string layers, ulong seed = 7)
    {
        var network = new Network(Architecture.Parse(DigitShape, layers));
        network.Initialize(WeightInit.He, new RandomSource(seed));
        // Biases start at zero; give them values so that a swapped bias would be noticed.
        foreach (var parameter in network.Parameters.Where(p => p.Kind == ParameterKind.Bias))
        {
            for (int i = 0; i < parameter.Length; i++) parameter.Value[i] = 0.01f * (i + 1);
        }
        return network;
    }

    private static byte[] Save(Network network, Preprocessing? preprocessing = null, string loss = "cross-entropy")
    {
        var stream = new MemoryStream();
        ModelFile.Save(stream, network, preprocessing ?? Preprocessing.Create(PreprocessingKind.Scale255), loss, DigitsMat.ClassNames, "{\"test_accuracy\":0.5}");
        return stream.ToArray();
    }

    private static LoadedModel Load(byte[] bytes) => ModelFile.Load(new MemoryStream(bytes), "model.safetensors");

    private static string Reject(byte[] bytes)
    {
        var error = Assert.Throws<ModelFormatException>(() => Load(bytes));
        Assert.DoesNotContain('\n', error.Message);
        return error.Message;
    }

    [Fact]
    public void SaveLoadIsBitIdenticalOnTestSplit()
    {
        var splits = DigitsMat.Load(TestData.DigitsMatPath);
        var preprocessing = Preprocessing.Fit(PreprocessingKind.Standardize, splits.Train);
        var network = RandomNetwork("dense 64, relu, dropout 0.3, dense 32, tanh, dense 10");

        var loaded = Load(Save(network, preprocessing));

        Assert.Equal(network.Architecture.LayersText, loaded.Network.Architecture.LayersText);
        Assert.Equal(network.Parameters.Select(p => p.Name), loaded.Network.Parameters.Select(p => p.Name));
        Assert.True(network.ParameterValues.AsSpan().SequenceEqual(loaded.Network.ParameterValues), "parameter values differ after a round trip");
        Assert.Equal(preprocessing, loaded.Preprocessing);
        Assert.Equal("cross-entropy", loaded.Loss.Name);
        Assert.Equal(DigitsMat.ClassNames, loaded.ClassNames);
        Assert.Equal("{\"test_accuracy\":0.5}", loaded.TrainingSummary);

        var test = preprocessing.Apply(splits.Test);
        var expected = new float[test.Count * 10];
        var actual = new float[test.Count * 10];
        new Evaluator(network, DigitNet.Losses.Loss.FromName("cross-entropy")).Evaluate(test, probabilities: expected);
        new Evaluator(loaded.Network, loaded.Loss).Evaluate(test, probabilities: actual);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "probabilities on the test split differ after a round trip");
    }

    [Fact]
    public void SaveToPathWritesOnlyTheTarget()
    {
        using var folder = new TempDirectory();
        string path = Path.Combine(folder.Path, "m.safetensors");
        var network = RandomNetwork("dense 8, sigmoid, dense 10, sigmoid");
        ModelFile.Save(path, network, Preprocessing.Create(PreprocessingKind.Classic), "mse", DigitsMat.ClassNames);
        ModelFile.Save(path, network, Preprocessing.Create(PreprocessingKind.Classic), "mse", DigitsMat.ClassNames);

        Assert.Equal(["m.safetensors"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        var loaded = ModelFile.Load(path);
        Assert.Equal("mse", loaded.Loss.Name);
        Assert.Null(loaded.TrainingSummary);
        Assert.Throws<DirectoryNotFoundException>(() =>
            ModelFile.Save(Path.Combine(folder.Path, "missing", "m.safetensors"), network, Preprocessing.Create(PreprocessingKind.Classic), "mse", DigitsMat.ClassNames));
    }

    [Fact]
    public void MissingFileIsModelFormatError()
    {
        var error = Assert.Throws<ModelFormatException>(() => ModelFile.Load("/nonexistent/m.safetensors"));
        Assert.Equal("model file not found: /nonexistent/m.safetensors", error.Message);
    }

    /// <summary>Rewrites a DigitNet file with a changed header, keeping the data and fixing the length field.</summary>
    private static byte[] EditHeader(byte[] file, Func<string, string> edit)
    {
        int headerLength = (int)BitConverter.ToUInt64(file, 0);
        string header = System.Text.Encoding.UTF8.GetString(file, 8, headerLength).TrimEnd(' ');
        return SafeTensorsBytes.Build(edit(header), file[(8 + headerLength)..]);
    }

    [Fact]
    public void RejectsMissingTensor()
    {
        var network = RandomNetwork("dense 4, relu, dense 10");
        var stream = new MemoryStream();
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "digitnet", ["format_version"] = "1",
            ["architecture"] = ModelFile.ArchitectureJson(network.Architecture),
            ["preprocessing"] = "{\"kind\":\"none\"}", ["labels"] = JsonSerializer.Serialize(DigitsMat.ClassNames), ["loss"] = "mse",
        };
        var tensors = network.Parameters.Where(p => p.Name != "dense2.bias")
            .Select(p => new SafeTensorData(p.Name, [.. Enumerable.Range(0, p.Shape.Rank).Select(a => p.Shape[a])], p.Value.ToArray())).ToList();
        SafeTensors.Write(stream, tensors, metadata);

        Assert.Equal("model.safetensors: tensor 'dense2.bias' is missing; the architecture needs it with shape [10]", Reject(stream.ToArray()));
    }

    [Fact]
    public void RejectsShapeThatDisagreesWithArchitecture()
    {
        byte[] file = Save(RandomNetwork("dense 4, relu, dense 10"));
        byte[] edited = EditHeader(file, header => header.Replace("dense 4", "dense 5"));
        string message = Reject(edited);
        Assert.Contains("tensor 'dense1.weight' has shape [4, 256], the architecture needs [5, 256]", message);
    }

    [Fact]
    public void RejectsExtraTensor()
    {
        var network = RandomNetwork("dense 4, relu, dense 10");
        var stream = new MemoryStream();
        ModelFile.Save(stream, network, Preprocessing.Create(PreprocessingKind.None), "mse", DigitsMat.ClassNames);
        var file = SafeTensorsFile.Open(new MemoryStream(stream.ToArray()), "x");
        var tensors = file.Tensors.Select(t => new SafeTensorData(t.Name, [.. t.Shape.Select(d => (int)d)], file.ReadSingles(t))).ToList();
        tensors.Add(new SafeTensorData("dense9.weight", [1], new float[] { 1 }));
        var rewritten = new MemoryStream();
        SafeTensors.Write(rewritten, tensors, file.Metadata);

        Assert.Contains("tensor 'dense9.weight' is not a parameter of the architecture", Reject(rewritten.ToArray()));
    }

    [Fact]
    public void RejectsBadMetadata()
    {
        byte[] file = Save(RandomNetwork("dense 4, relu, dense 10"));
        Assert.Contains("metadata \"format\" is 'other'", Reject(EditHeader(file, h => h.Replace("\"format\":\"digitnet\"", "\"format\":\"other\""))));
        Assert.Contains("format_version '2' is not supported", Reject(EditHeader(file, h => h.Replace("\"format_version\":\"1\"", "\"format_version\":\"2\""))));
        Assert.Contains("has no \"loss\" key", Reject(EditHeader(file, h => h.Replace("\"loss\":", "\"lost\":"))));
        Assert.Contains("unknown loss 'hinge'", Reject(EditHeader(file, h => h.Replace("\"loss\":\"cross-entropy\"", "\"loss\":\"hinge\""))));
        Assert.Contains("unknown layer kind 'warp'", Reject(EditHeader(file, h => h.Replace("relu", "warp"))));
        Assert.Contains("\"labels\" has 11 names", Reject(EditHeader(file, h => h.Replace("\\\"9\\\"", "\\\"9\\\",\\\"x\\\""))));
        Assert.Contains("metadata \"preprocessing\"", Reject(EditHeader(file, h => h.Replace("scale255", "scale256"))));
    }

    [Fact]
    public void RejectsNonFiniteWeights()
    {
        var network = RandomNetwork("dense 4, relu, dense 10");
        network.Parameters[0].Value[3] = float.NaN;
        Assert.Contains("tensor 'dense1.weight' element 3 is NaN", Reject(Save(network)));
    }

    [Fact]
    public void LoadsFileWrittenByPython()
    {
        // tests/fixtures/make_safetensors_fixture.py wrote this file with json, struct and numpy only.
        string path = Path.Combine(TestData.RepositoryRoot, "tests", "fixtures", "tiny_model.safetensors");
        var model = ModelFile.Load(path);

        Assert.Equal("dense 4, sigmoid, dense 10", model.Network.Architecture.LayersText);
        Assert.Equal(new TensorShape(1, 4, 4), model.Network.InputShape);
        Assert.Equal(PreprocessingKind.Scale255, model.Preprocessing.Kind);
        Assert.Equal("cross-entropy", model.Loss.Name);

        // The script's formulas, computed in double and rounded to float as numpy does.
        static float[] Ramp(int count, double scale, double shift) => Enumerable.Range(0, count).Select(i => (float)(i * scale + shift)).ToArray();
        Assert.Equal(Ramp(64, 0.01, -0.3), model.Network.FindParameter("dense1.weight")!.Value.ToArray());
        Assert.Equal(Ramp(4, 0.5, -1.0), model.Network.FindParameter("dense1.bias")!.Value.ToArray());
        Assert.Equal(Ramp(40, -0.02, 0.4), model.Network.FindParameter("dense2.weight")!.Value.ToArray());
        Assert.Equal(Ramp(10, 0.1, -0.5), model.Network.FindParameter("dense2.bias")!.Value.ToArray());
    }

    [SkippableFact]
    public void PythonReadsDigitNetFile()
    {
        string? python = FindPythonWithNumpy();
        if (python is null)
        {
            // Without numpy this check cannot run, so it shows as skipped; CI sets CI=true and must
            // provide python3-numpy, so there a missing numpy fails the test instead.
            Assert.True(Environment.GetEnvironmentVariable("CI") is null, "CI must provide python3 with numpy for this test");
            throw new SkipException("no python3 with numpy found; install python3-numpy to run this check");
        }

        using var folder = new TempDirectory();
        string path = Path.Combine(folder.Path, "m.safetensors");
        var network = RandomNetwork("dense 30, relu, dense 20, relu, dense 10");
        ModelFile.Save(path, network, Preprocessing.Create(PreprocessingKind.Scale255), "cross-entropy", DigitsMat.ClassNames);

        string script = Path.Combine(TestData.RepositoryRoot, "tests", "fixtures", "read_safetensors.py");
        string text = RunProcess(python, script, path);
        using var report = JsonDocument.Parse(text);
        var tensors = report.RootElement.GetProperty("tensors").EnumerateArray().ToList();

        Assert.Equal(network.Parameters.Select(p => p.Name), tensors.Select(t => t.GetProperty("name").GetString()));
        foreach (var (parameter, tensor) in network.Parameters.Zip(tensors))
        {
            Assert.Equal("float32", tensor.GetProperty("dtype").GetString());
            Assert.Equal(parameter.Shape.ToString(), "[" + string.Join(", ", tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32())) + "]");
            string hash = Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes<float>(parameter.Value)));
            Assert.Equal(hash, tensor.GetProperty("sha256").GetString());
        }
        var metadata = report.RootElement.GetProperty("metadata");
        Assert.Equal("digitnet", metadata.GetProperty("format").GetString());
        Assert.Equal(ModelFile.ArchitectureJson(network.Architecture), metadata.GetProperty("architecture").GetString());
    }

    private static string? FindPythonWithNumpy()
    {
        foreach (string candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                RunProcess(candidate, "-c", "import numpy");
                return candidate;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                // Not installed, or numpy missing: try the next one.
            }
        }
        return null;
    }

    private static string RunProcess(string fileName, params string[] args)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', args)} exited with {process.ExitCode}: {stderr}");
        return stdout.Result;
    }
}
