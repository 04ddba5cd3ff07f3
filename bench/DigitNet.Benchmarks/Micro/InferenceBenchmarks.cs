using BenchmarkDotNet.Attributes;
using DigitNet.Kernels;
using DigitNet.Models;
using DigitNet.Tensors;

namespace DigitNet.Benchmarks.Micro;

/// <summary>
/// One forward pass of a single image through the two-hidden-layer network (256-180-100-10),
/// with no worker pool and with a two-thread pool attached, as a network has after training.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class InferenceBenchmarks
{
    private Network _network = null!;
    private Tensor _image = null!;
    private WorkerPool? _pool;

    [Params(false, true)]
    public bool WithPool { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _network = InferenceLatency.CreateMlp();
        _image = InferenceLatency.CreateImage(_network);
        _pool = WithPool ? new WorkerPool(2) : null;
        _network.Workers = _pool;
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public Tensor PredictOneImage() => _network.Forward(_image, training: false);
}
