using DigitNet.Layers;
using DigitNet.Losses;
using DigitNet.Models;
using DigitNet.Tensors;
using DigitNet.Tests.Layers;
using DigitNet.Tests.Losses;
using DigitNet.Tests.TestUtil;
using Xunit.Abstractions;

namespace DigitNet.Tests.Models;

/// <summary>
/// End-to-end gradient checks of a whole network: the loss of a naive double forward pass is
/// differentiated by central differences with respect to every parameter and compared with the
/// gradients that <see cref="Network.Backward"/> writes.
/// </summary>
public sealed class NetworkGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, string> Cases()
    {
        var data = new TheoryData<string, int, string>();
        foreach (string loss in new[] { "mse", "cross-entropy" })
        {
            foreach (int batch in new[] { 1, 3, 7 })
            {
                data.Add("dense 7, sigmoid, dense 5, tanh, dense 3", batch, loss);
            }
        }
        data.Add("dense 17 bias=false, tanh, dense 33, sigmoid, dense 5", 3, "cross-entropy");
        data.Add("dense 5, dropout 0.5, sigmoid, dense 4, sigmoid", 3, "mse");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradientsMatchReference(string layers, int batch, string lossName)
    {
        var random = new RandomSource(111, (ulong)(batch * 10 + lossName.Length));
        var network = new Network(Architecture.Parse(new TensorShape(2, 3, 2), layers));
        network.Initialize(WeightInit.Xavier, random);
        foreach (var parameter in network.Parameters.Where(p => p.Kind == ParameterKind.Bias))
            GradientCheck.Fill(parameter.Value, random);
        var loss = Loss.FromName(lossName);
        var x = GradientCheck.RandomTensor(network.InputShape.WithBatch(batch), random);
        byte[] labels = MeanSquaredErrorTests.RandomLabels(batch, network.ClassCount, random);

        // Analytic gradients in float32. Dropout is a training-time layer whose mask the reference
        // cannot see, so the network runs in inference mode, where dropout is the identity.
        var gradient = new Tensor(new TensorShape(1));
        var y = network.Forward(x, training: false);
        double lossValue = loss.Compute(y, labels, gradient);
        network.Backward(gradient);

        double[] input = GradientCheck.ToDouble(x.Span);
        double[][] parameters = network.Parameters.Select(p => GradientCheck.ToDouble(p.Value)).ToArray();
        double Objective() => ReferenceLoss(lossName, ReferenceForward(network, input, parameters, batch), labels, network.ClassCount);

        var report = new GradientReport($"network '{layers}'");
        report.Add(GradientCheck.Compare("loss", [(float)lossValue], [Objective()], GradientCheck.DefaultForwardTolerance));
        for (int i = 0; i < parameters.Length; i++)
        {
            var parameter = network.Parameters[i];
            double[] numerical = GradientCheck.CentralDifferences(Objective, parameters[i]);
            report.Add(GradientCheck.Compare(parameter.Name, parameter.Gradient, numerical,
                GradientCheck.DefaultGradientTolerance, parameter.Shape));
        }

        output.WriteLine($"network '{layers}', batch {batch}, {lossName}: max error {report.MaxError:E2}");
        output.WriteLine(report.ToString());
        report.AssertPassed();
    }

    /// <summary>
    /// Runs the layers of <paramref name="network"/> as naive double references, with
    /// <paramref name="parameters"/> in the order of <see cref="Network.Parameters"/>. Dropout is
    /// the identity, as in inference.
    /// </summary>
    private static double[] ReferenceForward(Network network, double[] x, double[][] parameters, int batch)
    {
        int next = 0;
        double[] y = x;
        foreach (var layer in network.Layers)
        {
            switch (layer)
            {
                case Dense dense:
                    double[]? bias = dense.Bias is null ? null : parameters[next + 1];
                    y = DenseTests.DenseForward(y, parameters[next], bias, batch, layer.InputShape.Size, layer.OutputShape.Size);
                    break;
                case Sigmoid:
                    y = ActivationTests.SigmoidForward(y);
                    break;
                case Tanh:
                    y = ActivationTests.TanhForward(y);
                    break;
                case Relu:
                    y = ActivationTests.ReluForward(y);
                    break;
                case Dropout:
                    break;
                default:
                    throw new NotSupportedException($"{layer.Name}: no double reference for {layer.GetType().Name}");
            }
            next += layer.Parameters.Count;
        }
        return y;
    }

    private static double ReferenceLoss(string name, double[] y, byte[] labels, int classes) => name switch
    {
        "mse" => MeanSquaredErrorTests.Reference(y, labels, classes),
        _ => SoftmaxCrossEntropyTests.Reference(y, labels, classes),
    };
}
