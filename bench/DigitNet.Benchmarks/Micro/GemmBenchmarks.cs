using BenchmarkDotNet.Attributes;
using DigitNet.Kernels;

namespace DigitNet.Benchmarks.Micro;

/// <summary>
/// DigitNet's <see cref="Gemm"/> against OpenBLAS <c>cblas_sgemm</c> (the baseline) on square
/// products and on the products of training at batch 64. The <c>gemm</c> mode prints the same
/// comparison as GFLOP/s.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public unsafe class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private WorkerPool? _pool;

    public static IEnumerable<GemmShape> Shapes() =>
        GemmShape.Squares([128, 256, 512, 1024, 2048]).Concat(GemmShape.Training);

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.Training[0];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        OpenBlas.EnsureLoaded();
        OpenBlas.Threads = Threads;
        _pool = Threads > 1 ? new WorkerPool(Threads) : null;
        _a = GC.AllocateArray<float>(Shape.ALength, pinned: true);
        _b = GC.AllocateArray<float>(Shape.BLength, pinned: true);
        _c = GC.AllocateArray<float>(Shape.CLength, pinned: true);
        var random = new Random(1);
        for (int i = 0; i < _a.Length; i++) _a[i] = (float)random.NextDouble();
        for (int i = 0; i < _b.Length; i++) _b[i] = (float)random.NextDouble();
    }

    [GlobalCleanup]
    public void Cleanup() => _pool?.Dispose();

    [Benchmark]
    public void DigitNet() => Gemm.Multiply(Shape.TransposeA, Shape.TransposeB, Shape.M, Shape.N, Shape.K,
        _a, Shape.Lda, _b, Shape.Ldb, _c, Shape.Ldc, workers: _pool);

    [Benchmark(Baseline = true)]
    public void OpenBLAS()
    {
        fixed (float* a = _a, b = _b, c = _c)
            OpenBlas.Multiply(Shape.TransposeA, Shape.TransposeB, Shape.M, Shape.N, Shape.K, a, Shape.Lda, b, Shape.Ldb, c, Shape.Ldc);
    }
}
