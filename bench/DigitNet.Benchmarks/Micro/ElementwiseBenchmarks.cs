using BenchmarkDotNet.Attributes;
using DigitNet.Kernels;

namespace DigitNet.Benchmarks.Micro;

/// <summary>
/// The element-wise kernels of training on the sizes they see at batch 64: 11,520 values (the
/// 180-unit hidden layer) and 262,144 values (the first convolution's output, 16 x 16 x 16 per image).
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class ElementwiseBenchmarks
{
    private const int Batch = 64;

    private float[] _x = [], _y = [], _dy = [], _dx = [], _bias = [], _sums = [];

    [Params(11_520, 262_144)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        _x = Enumerable.Range(0, Length).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
        _dy = Enumerable.Range(0, Length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        _y = new float[Length];
        _dx = new float[Length];
        _bias = new float[Length / Batch];
        _sums = new float[Length / Batch];
        Elementwise.Sigmoid(_x, _y);
    }

    [Benchmark]
    public void Sigmoid() => Elementwise.Sigmoid(_x, _y);

    [Benchmark]
    public void SigmoidBackward() => Elementwise.SigmoidBackward(_y, _dy, _dx);

    [Benchmark]
    public void Relu() => Elementwise.Relu(_x, _dx);

    [Benchmark]
    public void ReluBackward() => Elementwise.ReluBackward(_x, _dy, _dx);

    [Benchmark]
    public void AddRowVector() => Elementwise.AddRowVector(_y, _bias, Batch);

    [Benchmark]
    public void SumRows() => Elementwise.SumRows(_dy, Batch, _sums);

    [Benchmark]
    public void Softmax() => Elementwise.Softmax(_x, _dx, Length / 10);
}
