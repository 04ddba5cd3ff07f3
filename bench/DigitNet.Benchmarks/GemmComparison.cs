using System.Globalization;
using DigitNet.Kernels;

namespace DigitNet.Benchmarks;

/// <summary>
/// One matrix product to time (public because BenchmarkDotNet's generated code reads it):
/// <c>C[m, n] = op(A)[m, k] op(B)[k, n]</c>, row-major, each row stride longer than its row by
/// <paramref name="Padding"/> values.
/// </summary>
public sealed record GemmShape(string Name, bool TransposeA, bool TransposeB, int M, int N, int K, int Padding = 0)
{
    public double Flops => 2.0 * M * N * K;

    public int Lda => (TransposeA ? M : K) + Padding;
    public int Ldb => (TransposeB ? K : N) + Padding;
    public int Ldc => N + Padding;

    /// <summary>Floats in the arrays of A, B and C, padding included.</summary>
    public int ALength => (TransposeA ? K : M) * Lda;
    public int BLength => (TransposeB ? N : K) * Ldb;
    public int CLength => M * Ldc;

    /// <summary>Text such as <c>64x180x256 NT</c>: m, n and k, then whether A and B are transposed.</summary>
    public string Dimensions => $"{M}x{N}x{K} {(TransposeA ? 'T' : 'N')}{(TransposeB ? 'T' : 'N')}";

    /// <summary>The label BenchmarkDotNet prints in its parameter column.</summary>
    public override string ToString() => $"{Name} ({Dimensions})";

    /// <summary>Square products for the usual GFLOP/s curve.</summary>
    public static IEnumerable<GemmShape> Squares(IEnumerable<int> sizes) =>
        sizes.Select(size => new GemmShape($"square {size}", false, false, size, size, size));

    /// <summary>
    /// The products one training batch of 64 runs in the two-hidden-layer network
    /// (256-180-100-10) and in the benchmark CNN, as Dense and Conv2D call them. Conv2D splits a
    /// batch of 64 into 8 groups of 8 samples and runs each group's products on one thread, so
    /// its rows are one group's products: 8 planes of 16x16, 8x8 and 4x4 outputs side by side.
    /// The first layer's matrices have rows of 2,048 values, which Conv2D pads by 16.
    /// </summary>
    public static IReadOnlyList<GemmShape> Training { get; } =
    [
        new("mlp dense1 y = x W^T", false, true, 64, 180, 256),
        new("mlp dense1 dW = dy^T x", true, false, 180, 256, 64),
        new("mlp dense2 y = x W^T", false, true, 64, 100, 180),
        new("mlp dense2 dW = dy^T x", true, false, 100, 180, 64),
        new("mlp dense2 dx = dy W", false, false, 64, 180, 100),
        new("cnn conv1 y = W col, one group", false, false, 16, 2048, 9, Padding: 16),
        new("cnn conv1 dW = dy col^T, one group", false, true, 16, 9, 2048, Padding: 16),
        new("cnn conv2 y = W col, one group", false, false, 32, 512, 144),
        new("cnn conv2 dW = dy col^T, one group", false, true, 32, 144, 512),
        new("cnn conv2 dcol = W^T dy, one group", true, false, 144, 512, 32),
        new("cnn conv3 y = W col, one group", false, false, 64, 128, 288),
        new("cnn conv3 dW = dy col^T, one group", false, true, 64, 288, 128),
        new("cnn conv3 dcol = W^T dy, one group", true, false, 288, 128, 64),
        new("cnn dense1 y = x W^T", false, true, 64, 128, 256),
        new("cnn dense1 dW = dy^T x", true, false, 128, 256, 64),
    ];
}

/// <summary>
/// The <c>gemm</c> mode: DigitNet's <see cref="Gemm"/> against OpenBLAS <c>cblas_sgemm</c> in one
/// process, on the same operands, at each requested thread count.
/// </summary>
/// <remarks>
/// For each shape the two libraries are timed in alternation for several rounds, and each keeps
/// its fastest round, so a burst of load from other processes penalises neither more than the
/// other. The results of the two are compared, so a fast wrong kernel cannot go unnoticed.
/// </remarks>
internal static unsafe class GemmComparison
{
    public static int Run(ArgumentReader arguments)
    {
        int[] threadCounts = arguments.IntList("threads", [1, 2]);
        int[] sizes = arguments.IntList("sizes", [128, 256, 512, 1024, 2048]);
        // Many short rounds: on a shared machine whose speed changes over seconds, each library
        // then gets rounds in the fast spells too, so one slow spell cannot decide a ratio.
        int rounds = arguments.Int("rounds", 15);
        double roundSeconds = arguments.Double("round-ms", 40) / 1000;
        bool squaresOnly = arguments.Flag("squares-only");
        string? only = arguments.Text("only");
        arguments.RejectRemaining();

        OpenBlas.EnsureLoaded();
        Console.WriteLine($"# GEMM: DigitNet against OpenBLAS cblas_sgemm, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine();
        foreach (string line in MachineInfo.Describe())
            Console.WriteLine($"- {line}");
        Console.WriteLine($"- OpenBLAS: {OpenBlas.Config} (core {OpenBlas.CoreName}), loaded from {OpenBlas.Path}; {MachineInfo.OpenBlasEnvironment()}");
        Console.WriteLine($"- Best of {rounds} rounds of about {roundSeconds * 1000:F0} ms each, the libraries alternating; GFLOP/s = 2mnk / seconds per call");
        Console.WriteLine($"- With more than one thread, a pause of {OpenBlasSpinMilliseconds} ms follows each OpenBLAS round, until its idle threads stop spinning");
        Console.WriteLine();

        var shapes = GemmShape.Squares(sizes).ToList();
        if (!squaresOnly) shapes.AddRange(GemmShape.Training);
        if (only is not null)
        {
            shapes = shapes.Where(shape => shape.Name.Contains(only, StringComparison.OrdinalIgnoreCase)).ToList();
            if (shapes.Count == 0)
                throw new ArgumentException($"--only {only}: no product's name contains it; the names are in the first column of a full run.");
        }

        Console.WriteLine("| product | m x n x k, op | threads | DigitNet GFLOP/s | OpenBLAS GFLOP/s | DigitNet / OpenBLAS | max relative difference |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|");
        foreach (int threads in threadCounts)
        {
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            OpenBlas.Threads = threads;
            foreach (var shape in shapes)
            {
                var result = Compare(shape, pool, rounds, roundSeconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {shape.Name} | {shape.Dimensions} | {threads} | {result.DigitNet:F1} | {result.OpenBlas:F1} | {result.DigitNet / result.OpenBlas:F2} | {result.MaxRelativeDifference:E1} |"));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"Load average (1, 5, 15 min) at the end: {MachineInfo.LoadAverage()}");
        return 0;
    }

    private readonly record struct ComparisonResult(double DigitNet, double OpenBlas, double MaxRelativeDifference);

    private static ComparisonResult Compare(GemmShape shape, WorkerPool? pool, int rounds, double roundSeconds)
    {
        int aLength = shape.ALength, bLength = shape.BLength, cLength = shape.CLength;

        // Pinned, so the same memory serves as spans for DigitNet and as pointers for OpenBLAS, and
        // starting on a 64-byte cache line, as Conv2D's matrices do.
        var a = Aligned(aLength);
        var b = Aligned(bLength);
        var cDigitNet = Aligned(cLength);
        var cOpenBlas = Aligned(cLength);
        var random = new Random(shape.M * 31 + shape.N * 7 + shape.K);
        for (int i = 0; i < aLength; i++) a.Start[i] = (float)(random.NextDouble() * 2 - 1);
        for (int i = 0; i < bLength; i++) b.Start[i] = (float)(random.NextDouble() * 2 - 1);

        Action digitNet = () => Gemm.Multiply(shape.TransposeA, shape.TransposeB, shape.M, shape.N, shape.K,
            a.Slice(0, aLength), shape.Lda, b.Slice(0, bLength), shape.Ldb, cDigitNet.Slice(0, cLength), shape.Ldc, workers: pool);
        Action openBlas = () => OpenBlas.Multiply(shape.TransposeA, shape.TransposeB, shape.M, shape.N, shape.K,
            a.Start, shape.Lda, b.Start, shape.Ldb, cOpenBlas.Start, shape.Ldc);

        int digitNetCalls = Timing.CallsFor(digitNet, roundSeconds);
        int openBlasCalls = Timing.CallsFor(openBlas, roundSeconds);
        double digitNetBest = double.MaxValue, openBlasBest = double.MaxValue;
        for (int round = 0; round < rounds; round++)
        {
            digitNetBest = Math.Min(digitNetBest, Timing.SecondsPerCall(digitNet, digitNetCalls));
            openBlasBest = Math.Min(openBlasBest, Timing.SecondsPerCall(openBlas, openBlasCalls));
            WaitForOpenBlasThreads();
        }

        return new ComparisonResult(shape.Flops / digitNetBest / 1e9, shape.Flops / openBlasBest / 1e9,
            MaxRelativeDifference(cDigitNet.Slice(0, cLength).ToArray(), cOpenBlas.Slice(0, cLength).ToArray()));
    }

    /// <summary>
    /// Waits until OpenBLAS's idle threads have stopped spinning, so they do not compete with
    /// DigitNet's threads for the cores in the next round. OpenBLAS 0.3 lets an idle thread spin
    /// for 2^28 time-stamp-counter ticks (its default THREAD_TIMEOUT of 28), about 0.1 s at 2.6 GHz,
    /// before it sleeps.
    /// </summary>
    private static void WaitForOpenBlasThreads()
    {
        if (OpenBlas.Threads > 1)
            Thread.Sleep(OpenBlasSpinMilliseconds);
    }

    private const int OpenBlasSpinMilliseconds = 150;

    private static AlignedBuffer Aligned(int length)
    {
        var buffer = new AlignedBuffer();
        buffer.EnsureCapacity(length);
        return buffer;
    }

    /// <summary>The largest element difference, relative to the largest magnitude in the OpenBLAS result.</summary>
    private static double MaxRelativeDifference(float[] actual, float[] expected)
    {
        double scale = 0, difference = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            difference = Math.Max(difference, Math.Abs(actual[i] - expected[i]));
        }
        return scale == 0 ? difference : difference / scale;
    }
}
