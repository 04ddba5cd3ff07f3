using DigitNet.Layers;
using DigitNet.Tensors;

namespace DigitNet.Tests.Layers;

public sealed class WeightInitTests
{
    /// <summary>
    /// Layers with their fans. Dense 400 -> 100 has fan-in 400 and fan-out 100. A convolution of
    /// 8 channels with 40 filters of 5x3 has fan-in C*KH*KW = 120 and fan-out OUT*KH*KW = 600, as in PyTorch.
    /// </summary>
    public static TheoryData<string, WeightInit> Cases()
    {
        var cases = new TheoryData<string, WeightInit>();
        foreach (string layer in new[] { "dense", "conv" })
        {
            foreach (var init in Enum.GetValues<WeightInit>())
                cases.Add(layer, init);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InitializeClearsBiasAndScalesWeights(string kind, WeightInit init)
    {
        var (layer, weight, bias, fanIn, fanOut) = kind == "dense"
            ? Dense()
            : Convolution();
        bias.Value.Fill(1);

        layer.Initialize(init, new RandomSource(8));

        double expectedStd = init switch
        {
            WeightInit.Normal => 1 / Math.Sqrt(fanIn),
            WeightInit.Xavier => Math.Sqrt(6.0 / (fanIn + fanOut)) / Math.Sqrt(3),
            _ => Math.Sqrt(2.0 / fanIn),
        };
        var w = weight.Value.ToArray();
        double std = Math.Sqrt(w.Average(v => (double)v * v));
        Assert.All(bias.Value.ToArray(), b => Assert.Equal(0f, b));
        Assert.InRange(std, 0.95 * expectedStd, 1.05 * expectedStd);
        Assert.InRange(Math.Abs(w.Average(v => (double)v)), 0, 0.1 * expectedStd);
    }

    private static (Layer, Parameter, Parameter, int, int) Dense()
    {
        var layer = new Dense("dense1", new TensorShape(400), 100);
        return (layer, layer.Weight, layer.Bias!, 400, 100);
    }

    private static (Layer, Parameter, Parameter, int, int) Convolution()
    {
        var layer = new Conv2D("conv1", new TensorShape(8, 9, 9), 40, 5, 3);
        return (layer, layer.Weight, layer.Bias!, 120, 600);
    }
}
