using System.Runtime.CompilerServices;
using MemoryMarshal = System.Runtime.InteropServices.MemoryMarshal;
using DigitNet.Layers;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Models;

public sealed class NetworkTests
{
    private const string Layers = "dense 7, sigmoid, dense 5, tanh, dense 3";

    [Fact]
    public void LayersAndParametersAreNamedByKind()
    {
        var network = new Network(Architecture.Parse(new TensorShape(2, 3, 2), Layers));

        Assert.Equal(["dense1", "sigmoid1", "dense2", "tanh1", "dense3"], network.Layers.Select(l => l.Name));
        Assert.Equal(
            ["dense1.weight", "dense1.bias", "dense2.weight", "dense2.bias", "dense3.weight", "dense3.bias"],
            network.Parameters.Select(p => p.Name));
        Assert.Equal(new TensorShape(7, 12), network.Parameters[0].Shape);
        Assert.Equal(new TensorShape(3), network.OutputShape);
        Assert.Equal(3, network.ClassCount);
    }

    [Fact]
    public void FindParameterByName()
    {
        var network = new Network(Architecture.Parse(new TensorShape(4), Layers));

        Assert.Same(network.Parameters[3], network.FindParameter("dense2.bias"));
        Assert.Null(network.FindParameter("dense4.bias"));
    }

    [Fact]
    public void ParametersAreSlicesOfContiguousStorage()
    {
        var network = new Network(Architecture.Parse(new TensorShape(4), Layers));
        int offset = 0;

        foreach (var parameter in network.Parameters)
        {
            Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(parameter.Value), ref network.ParameterValues[offset]),
                $"{parameter.Name}: value does not start at offset {offset} of ParameterValues");
            Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(parameter.Gradient), ref network.ParameterGradients[offset]),
                $"{parameter.Name}: gradient does not start at offset {offset} of ParameterGradients");
            offset += parameter.Length;
        }

        Assert.Equal(offset, network.ParameterValues.Length);
        Assert.Equal(offset, network.ParameterGradients.Length);
        Assert.Equal(4 * 7 + 7 + 7 * 5 + 5 + 5 * 3 + 3, offset);
    }

    [Fact]
    public void WritesGoThroughBothViews()
    {
        var network = new Network(Architecture.Parse(new TensorShape(4), Layers));
        var bias = network.FindParameter("dense2.bias")!;
        int offset = 4 * 7 + 7 + 7 * 5;

        bias.Value[2] = 42f;
        network.ParameterValues[offset + 3] = -7f;
        bias.Gradient[1] = 5f;

        Assert.Equal(42f, network.ParameterValues[offset + 2]);
        Assert.Equal(-7f, bias.Value[3]);
        Assert.Equal(5f, network.ParameterGradients[offset + 1]);
    }

    [Fact]
    public void BackwardFillsSharedGradientStorage()
    {
        var random = new RandomSource(101);
        var network = CreateInitialized(random);
        var x = GradientCheck.RandomTensor(new TensorShape(3, 4), random);
        var dy = GradientCheck.RandomTensor(new TensorShape(3, 3), random);

        network.Forward(x, training: true);
        network.Backward(dy);

        foreach (var parameter in network.Parameters)
            Assert.Contains(parameter.Gradient.ToArray(), g => g != 0);
    }

    [Fact]
    public void BackwardTwiceGivesSameGradient()
    {
        var random = new RandomSource(102);
        var network = CreateInitialized(random);
        var x = GradientCheck.RandomTensor(new TensorShape(3, 4), random);
        var dy = GradientCheck.RandomTensor(new TensorShape(3, 3), random);

        network.Forward(x, training: true);
        network.Backward(dy);
        float[] first = (float[])network.ParameterGradients.Clone();
        network.Backward(dy);

        Assert.Equal(first, network.ParameterGradients);
    }

    [Fact]
    public void FirstLayerSkipsInputGradient()
    {
        var network = new Network(Architecture.Parse(new TensorShape(4), Layers));

        Assert.False(network.Layers[0].ComputesInputGradient);
        Assert.All(network.Layers.Skip(1), layer => Assert.True(layer.ComputesInputGradient, $"{layer.Name} skips dx"));
    }

    [Fact]
    public void SnapshotRestoreRecoversOutputs()
    {
        var random = new RandomSource(103);
        var network = CreateInitialized(random);
        var x = GradientCheck.RandomTensor(new TensorShape(3, 4), random);
        float[] before = network.Forward(x, training: false).Span.ToArray();

        float[] snapshot = network.SnapshotParameters();
        GradientCheck.Fill(network.ParameterValues, random);
        float[] changed = network.Forward(x, training: false).Span.ToArray();
        network.RestoreParameters(snapshot);
        float[] after = network.Forward(x, training: false).Span.ToArray();

        Assert.NotSame(network.ParameterValues, snapshot);
        Assert.NotEqual(before, changed);
        Assert.Equal(before, after);
        Assert.Equal(snapshot, network.ParameterValues);
    }

    [Fact]
    public void RestoreRejectsWrongLength()
    {
        var network = new Network(Architecture.Parse(new TensorShape(4), Layers));

        var error = Assert.Throws<ArgumentException>(() => network.RestoreParameters(new float[5]));
        Assert.Contains("5", error.Message);
    }

    [Fact]
    public void SameSeedSameInitialization()
    {
        var first = new Network(Architecture.Parse(new TensorShape(4), Layers));
        var second = new Network(Architecture.Parse(new TensorShape(4), Layers));

        first.Initialize(WeightInit.Xavier, new RandomSource(104));
        second.Initialize(WeightInit.Xavier, new RandomSource(104));

        Assert.Equal(first.ParameterValues, second.ParameterValues);
    }

    [Fact]
    public void OutputMustBeVector()
    {
        var error = Assert.Throws<ArgumentException>(() => new Network(Architecture.Parse(new TensorShape(1, 4, 4), "relu")));

        Assert.Contains("[1, 4, 4]", error.Message);
    }

    [Fact]
    public void EmptyArchitectureThrows()
    {
        Assert.Throws<ArgumentException>(() => new Network(Architecture.Parse(new TensorShape(4), "")));
    }

    [Fact]
    public void OversizedLayerIsFormatError()
    {
        // The weight of 10,000,000 x 256 values exceeds int.MaxValue, so its size check fails before it is allocated.
        var error = Assert.Throws<FormatException>(() => new Network(Architecture.Parse(new TensorShape(256), "dense 10000000")));

        Assert.Equal("layer 'dense 10000000': a tensor of this layer would have more than 2147483647 values; use fewer units or channels", error.Message);
    }

    [Fact]
    public void SummaryCountsParameters()
    {
        var network = new Network(Architecture.Parse(new TensorShape(4), Layers));

        string summary = network.Summary();

        Assert.Contains("dense1", summary);
        Assert.Contains("total 93 parameters", summary);
    }

    private static Network CreateInitialized(RandomSource random)
    {
        var network = new Network(Architecture.Parse(new TensorShape(4), Layers));
        network.Initialize(WeightInit.Xavier, random);
        foreach (var parameter in network.Parameters.Where(p => p.Kind == ParameterKind.Bias))
            GradientCheck.Fill(parameter.Value, random);
        return network;
    }
}
