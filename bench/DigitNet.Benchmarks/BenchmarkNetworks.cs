using DigitNet.Training;

namespace DigitNet.Benchmarks;

/// <summary>A network of the end-to-end comparison, with every setting of its training run.</summary>
/// <param name="Key">Name on the command line (<c>--networks</c>).</param>
/// <param name="Title">Row label of the tables.</param>
/// <param name="Options">The settings DigitNet trains with; the PyTorch run copies them.</param>
internal sealed record BenchmarkNetwork(string Key, string Title, TrainingOptions Options)
{
    /// <summary>
    /// The CNN of the convolution work: three 3x3 convolutions of 16, 32 and 64 channels, each
    /// followed by ReLU and 2x2 max pooling (16x16 down to 2x2), then 256-128-10 dense layers.
    /// It is the network of bench/pytorch_cnn_epoch.py.
    /// </summary>
    public const string CnnLayers =
        "conv 16 3x3 pad=1, relu, maxpool 2, conv 32 3x3 pad=1, relu, maxpool 2, "
        + "conv 64 3x3 pad=1, relu, maxpool 2, flatten, dense 128, relu, dense 10";

    /// <summary>The report's baseline: 256-50-10 sigmoid, squared error, learning rate 0.2, batch 1, 10 epochs (the defaults).</summary>
    public static BenchmarkNetwork Baseline { get; } = new("baseline", "256-50-10 sigmoid (baseline)", new TrainingOptions());

    /// <summary>Two hidden layers, 256-180-100-10 ReLU, softmax cross-entropy, SGD with momentum, batch 64.</summary>
    public static BenchmarkNetwork Mlp { get; } = new("mlp", "256-180-100-10 ReLU", new TrainingOptions
    {
        Hidden = [180, 100],
        Activation = "relu",
        Init = "he",
        Loss = "cross-entropy",
        LearningRate = 0.05,
        Momentum = 0.9,
        BatchSize = 64,
        Epochs = 20,
    });

    /// <summary>The CNN of <see cref="CnnLayers"/>, softmax cross-entropy, SGD with momentum, batch 64.</summary>
    public static BenchmarkNetwork Cnn { get; } = new("cnn", "CNN 16-32-64 3x3, 256-128-10", new TrainingOptions
    {
        Layers = CnnLayers,
        Init = "he",
        Loss = "cross-entropy",
        LearningRate = 0.02,
        Momentum = 0.9,
        BatchSize = 64,
        Epochs = 10,
    });

    public static IReadOnlyList<BenchmarkNetwork> All { get; } = [Baseline, Mlp, Cnn];
}
