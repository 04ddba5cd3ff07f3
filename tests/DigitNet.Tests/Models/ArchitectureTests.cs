using DigitNet.Models;
using DigitNet.Tensors;

namespace DigitNet.Tests.Models;

public sealed class ArchitectureTests
{
    [Fact]
    public void ParseReadsCommaSeparatedLayers()
    {
        var architecture = Architecture.Parse(new TensorShape(1, 16, 16), " dense 180 ,sigmoid,  dense 10 bias=false, ");

        Assert.Equal(["dense", "sigmoid", "dense"], architecture.Layers.Select(l => l.Kind));
        Assert.Equal("dense 180, sigmoid, dense 10 bias=false", architecture.LayersText);
        Assert.Equal("input [1, 16, 16]: dense 180, sigmoid, dense 10 bias=false", architecture.ToString());
    }

    [Fact]
    public void LayersTextRoundTrips()
    {
        var shape = new TensorShape(256);
        var architecture = Architecture.Parse(shape, "dense 100, relu, dropout 0.5, dense 10");

        var again = Architecture.Parse(shape, architecture.LayersText);

        Assert.Equal(architecture.LayersText, again.LayersText);
        Assert.Equal(architecture.InputShape, again.InputShape);
    }

    [Fact]
    public void MlpListsHiddenLayersThenOutput()
    {
        var architecture = Architecture.Mlp(new TensorShape(256), [100, 50], "relu", 10, "sigmoid", dropout: 0.5, bias: false);

        Assert.Equal(
            "dense 100 bias=false, relu, dropout 0.5, dense 50 bias=false, relu, dropout 0.5, dense 10 bias=false, sigmoid",
            architecture.LayersText);
    }

    [Fact]
    public void MlpWithoutExtras()
    {
        var architecture = Architecture.Mlp(new TensorShape(256), [30], "tanh", 10, outputActivation: null);

        Assert.Equal("dense 30, tanh, dense 10", architecture.LayersText);
    }
}
