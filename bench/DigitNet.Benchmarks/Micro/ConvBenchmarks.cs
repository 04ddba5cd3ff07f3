using BenchmarkDotNet.Attributes;
using DigitNet.Kernels;
using DigitNet.Layers;
using DigitNet.Tensors;

namespace DigitNet.Benchmarks.Micro;

/// <summary>
/// Forward, and forward plus backward, of the three convolutions of the benchmark CNN at batch 64:
/// conv1 1 to 16 channels on 16x16, conv2 16 to 32 on 8x8, conv3 32 to 64 on 4x4, all 3x3 with
/// padding 1. Backward is timed after its forward because it reuses the forward's column matrix,
/// as in training. conv1 computes no input gradient, as the first layer of a network.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class ConvBenchmarks
{
    private const int Batch = 64;

    private Conv2D _layer = null!;
    private Tensor _x = null!, _dy = null!;
    private WorkerPool? _pool;

    [Params("conv1", "conv2", "conv3")]
    public string Layer { get; set; } = "conv1";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (channels, size, outChannels) = Layer switch
        {
            "conv1" => (1, 16, 16),
            "conv2" => (16, 8, 32),
            _ => (32, 4, 64),
        };
        _layer = new Conv2D(Layer, new TensorShape(channels, size, size), outChannels, 3, 3, stride: 1, padding: 1)
        {
            ComputesInputGradient = Layer != "conv1",
        };
        _pool = Threads > 1 ? new WorkerPool(Threads) : null;
        _layer.Workers = _pool;

        var random = new RandomSource(3);
        _layer.Initialize(WeightInit.He, random);
        _x = Fill(new Tensor(_layer.InputShape.WithBatch(Batch)), random);
        _dy = Fill(new Tensor(_layer.OutputShape.WithBatch(Batch)), random);
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public Tensor Forward() => _layer.Forward(_x, training: true);

    [Benchmark]
    public Tensor? ForwardBackward()
    {
        _layer.Forward(_x, training: true);
        return _layer.Backward(_dy);
    }

    private static Tensor Fill(Tensor tensor, RandomSource random)
    {
        var values = tensor.Span;
        for (int i = 0; i < values.Length; i++) values[i] = random.NextSingle() - 0.5f;
        return tensor;
    }
}
