using DigitNet.Models;
using DigitNet.Tensors;

namespace DigitNet.Tests.Models;

public sealed class LayerSpecTests
{
    [Theory]
    [InlineData("dense 180", "dense 180")]
    [InlineData("relu", "relu")]
    [InlineData("  dropout   0.5 ", "dropout 0.5")]
    [InlineData("Dense 10 BIAS=false", "dense 10 bias=false")]
    [InlineData("conv 16 5x5 pad=2 stride=1", "conv 16 5x5 pad=2 stride=1")]
    public void ParseToStringRoundTrip(string text, string canonical)
    {
        var spec = LayerSpec.Parse(text);
        var again = LayerSpec.Parse(spec.ToString());

        Assert.Equal(canonical, spec.ToString());
        Assert.Equal(canonical, again.ToString());
        Assert.Equal(spec.Kind, again.Kind);
        Assert.Equal(spec.Arguments, again.Arguments);
        Assert.Equal(spec.Options, again.Options);
    }

    [Fact]
    public void ParseSplitsArgumentsAndOptions()
    {
        var spec = LayerSpec.Parse("conv 16 5x5 pad=2 stride=1");

        Assert.Equal("conv", spec.Kind);
        Assert.Equal(["16", "5x5"], spec.Arguments);
        Assert.Equal("2", spec.Options["pad"]);
        Assert.Equal("1", spec.Options["stride"]);
    }

    [Theory]
    [InlineData("", "empty layer description")]
    [InlineData("   ", "empty layer description")]
    [InlineData("dense bias=false 10", "positional argument '10' must come before key=value options")]
    [InlineData("dense 10 bias=", "option 'bias=' must be key=value")]
    [InlineData("dense 10 =false", "option '=false' must be key=value")]
    [InlineData("dense 10 bias=true bias=false", "option 'bias' is given twice")]
    public void MalformedTextThrows(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => LayerSpec.Parse(text));

        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("lstm 5")]
    [InlineData("dense2 10")]
    public void UnknownKindThrows(string text)
    {
        var spec = LayerSpec.Parse(text);

        var error = Assert.Throws<FormatException>(() => LayerFactory.Create(spec, "layer1", new TensorShape(4)));

        Assert.Contains($"unknown layer kind '{spec.Kind}'", error.Message);
        Assert.Contains("dense", error.Message);
    }

    [Theory]
    [InlineData("dense", "needs argument 1")]
    [InlineData("dense abc", "argument 'abc' must be a positive integer")]
    [InlineData("dense 0", "argument '0' must be a positive integer")]
    [InlineData("dense -3", "argument '-3' must be a positive integer")]
    [InlineData("dense 2.5", "argument '2.5' must be a positive integer")]
    [InlineData("dense 10 20", "takes at most 1 positional argument(s), got 2")]
    [InlineData("dense 10 bias=maybe", "option bias=maybe must be true or false")]
    [InlineData("dropout", "needs argument 1")]
    [InlineData("dropout x", "argument 'x' must be a number")]
    [InlineData("dropout 1.5", "drop probability 1.5 must be in [0, 1)")]
    [InlineData("dropout -0.1", "drop probability -0.1 must be in [0, 1)")]
    [InlineData("relu 3", "takes at most 0 positional argument(s), got 1")]
    public void BadArgumentThrows(string text, string message)
    {
        var spec = LayerSpec.Parse(text);

        var error = Assert.Throws<FormatException>(() => LayerFactory.Create(spec, "layer1", new TensorShape(4)));

        Assert.Contains($"layer '{spec}'", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("dense 10 foo=1", "unknown option 'foo'; expected one of bias")]
    [InlineData("relu bias=false", "takes no options, got 'bias'")]
    [InlineData("dropout 0.5 seed=3", "takes no options, got 'seed'")]
    public void UnknownOptionThrows(string text, string message)
    {
        var spec = LayerSpec.Parse(text);

        var error = Assert.Throws<FormatException>(() => LayerFactory.Create(spec, "layer1", new TensorShape(4)));

        Assert.Contains($"layer '{spec}'", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void FactoryBuildsEveryBasicKind()
    {
        var input = new TensorShape(2, 3, 4);

        Assert.Equal(new TensorShape(10), LayerFactory.Create(LayerSpec.Parse("dense 10 bias=false"), "dense1", input).OutputShape);
        Assert.Empty(LayerFactory.Create(LayerSpec.Parse("relu"), "relu1", input).Parameters);
        Assert.Equal(input, LayerFactory.Create(LayerSpec.Parse("sigmoid"), "sigmoid1", input).OutputShape);
        Assert.Equal(input, LayerFactory.Create(LayerSpec.Parse("tanh"), "tanh1", input).OutputShape);
        Assert.Equal(0.25, Assert.IsType<DigitNet.Layers.Dropout>(
            LayerFactory.Create(LayerSpec.Parse("dropout 0.25"), "dropout1", input)).Probability);
    }
}
