using DigitNet.Kernels;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Kernels;

public sealed class GemmTests : IDisposable
{
    private static readonly int[] Sizes = [1, 2, 7, 15, 16, 17, 33, 64, 255, 257];
    private static readonly int[] Depths = [1, 2, 7, 16, 17, 33, 257];

    private readonly WorkerPool _twoThreads = new(2);

    public void Dispose() => _twoThreads.Dispose();

    /// <summary>Kernel kinds this machine runs, each with and without a two-thread pool.</summary>
    public static TheoryData<string, int> KernelsAndThreads()
    {
        var data = new TheoryData<string, int>();
        foreach (GemmKernelKind kind in Enum.GetValues<GemmKernelKind>())
        {
            if (!GemmKernel.IsSupported(kind))
                continue;
            data.Add(kind.ToString(), 1);
            data.Add(kind.ToString(), 2);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KernelsAndThreads))]
    public void BlockedPath_MatchesReference(string kernelName, int threads)
    {
        GemmKernel kernel = GemmKernel.Create(Enum.Parse<GemmKernelKind>(kernelName));
        WorkerPool? pool = threads == 2 ? _twoThreads : null;
        var random = new Random(11);

        // Every (m, n) pair of awkward sizes, with k rotating through the depths so that each
        // depth meets small and large tiles without running the full cube.
        for (int mi = 0; mi < Sizes.Length; mi++)
        {
            for (int ni = 0; ni < Sizes.Length; ni++)
            {
                int k = Depths[(mi + 3 * ni) % Depths.Length];
                bool transposeA = (mi + ni) % 2 == 1;
                bool transposeB = (mi / 2 + ni) % 2 == 1;
                bool accumulate = (mi + 2 * ni) % 3 == 0;
                var problem = Problem.Create(random, transposeA, transposeB, Sizes[mi], Sizes[ni], k, padding: 3);
                problem.CheckBlocked(kernel, accumulate, pool);
            }
        }
    }

    [Theory]
    [MemberData(nameof(KernelsAndThreads))]
    public void BlockedPath_AllTransposesAndAccumulate(string kernelName, int threads)
    {
        GemmKernel kernel = GemmKernel.Create(Enum.Parse<GemmKernelKind>(kernelName));
        WorkerPool? pool = threads == 2 ? _twoThreads : null;
        var random = new Random(12);
        (int M, int N, int K)[] shapes = [(1, 1, 1), (2, 7, 15), (17, 16, 33), (33, 64, 2), (64, 180, 256), (15, 257, 17), (300, 513, 129)];

        foreach (var (m, n, k) in shapes)
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    foreach (bool accumulate in new[] { false, true })
                    {
                        // The large shape is slow in a Debug build, so it runs once per transpose pair.
                        if (m * n * k > 1_000_000 && accumulate != transposeA)
                            continue;
                        var problem = Problem.Create(random, transposeA, transposeB, m, n, k, padding: 5);
                        problem.CheckBlocked(kernel, accumulate, pool);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The kernels compute every C element as one chain of fused multiply-adds in increasing
    /// k per k block, then add it to C. That fixes the bits of C, whether a panel was packed or
    /// read in place, and whatever tile, edge or thread computed it. The shapes mix small products,
    /// which read full panels in place, with large ones, which pack, and have edge tiles, several
    /// k blocks and all four transpose cases.
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelsAndThreads))]
    public void BlockedPath_BitExactFmaOrder(string kernelName, int threads)
    {
        GemmKernel kernel = GemmKernel.Create(Enum.Parse<GemmKernelKind>(kernelName));
        WorkerPool? pool = threads == 2 ? _twoThreads : null;
        var random = new Random(13);
        (int M, int N, int K)[] shapes = [(64, 100, 180), (100, 180, 64), (64, 180, 100), (17, 65, 300), (8, 32, 513), (300, 513, 129)];

        foreach (var (m, n, k) in shapes)
        {
            for (int transposes = 0; transposes < 4; transposes++)
            {
                bool accumulate = (transposes + m) % 2 == 0;
                var problem = Problem.Create(random, transposes % 2 == 1, transposes / 2 == 1, m, n, k, padding: 3);
                problem.CheckBlockedBits(kernel, accumulate, pool);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void PublicMultiply_MatchesReference(int threads)
    {
        WorkerPool? pool = threads == 2 ? _twoThreads : null;
        var random = new Random(13);

        // Includes the matrix-vector (m or n = 1) and outer-product (k = 1) shapes of batch-1
        // training, whose lengths straddle every vector width.
        (int M, int N, int K)[] shapes =
        [
            (1, 50, 256), (50, 256, 1), (1, 256, 50), (256, 1, 50), (1, 1, 9), (1, 1, 300), (1, 7, 3),
            (1, 17, 20), (1, 3, 1), (3, 1, 1), (19, 1, 33), (1, 33, 65), (40, 1, 15), (7, 9, 1), (2, 100, 1),
            (64, 180, 256), (300, 513, 129), (16, 16, 16), (255, 33, 257),
        ];

        foreach (var (m, n, k) in shapes)
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    foreach (bool accumulate in new[] { false, true })
                    {
                        var problem = Problem.Create(random, transposeA, transposeB, m, n, k, padding: 4);
                        problem.CheckPublic(accumulate, pool);
                    }
                }
            }
        }
    }

    [Fact]
    public void PublicMultiply_ContiguousOperands()
    {
        var random = new Random(14);
        foreach (var (m, n, k) in new[] { (1, 50, 256), (50, 256, 1), (1, 256, 50), (64, 180, 256), (5, 1, 300) })
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    var problem = Problem.Create(random, transposeA, transposeB, m, n, k, padding: 0);
                    problem.CheckPublic(accumulate: false, workers: null);
                }
            }
        }
    }

    [Theory]
    [InlineData(20)]
    [InlineData(7)]
    [InlineData(300)]
    public void DotProduct_InfinityStaysInfinite(int k)
    {
        // An infinity in the part of the row that the overlapping tail vector reads twice must not
        // be multiplied by a zero mask lane, which would turn the sum into NaN.
        int position = Math.Min(5, k - 1);
        float[] ones = Enumerable.Repeat(1f, k).ToArray();
        float[] withInfinity = ones.ToArray();
        withInfinity[position] = float.PositiveInfinity;

        float[] dot = new float[1];
        Gemm.Multiply(false, true, 1, 1, k, withInfinity, k, ones, k, dot, 1);
        Assert.Equal(float.PositiveInfinity, dot[0]);

        float[] rows = Enumerable.Repeat(1f, 3 * k).ToArray();
        rows[k + position] = float.PositiveInfinity;
        float[] expected = [k, float.PositiveInfinity, k];

        float[] rowVector = new float[3];
        Gemm.Multiply(false, true, 1, 3, k, ones, k, rows, k, rowVector, 3);
        Assert.Equal(expected, rowVector);

        float[] columnVector = new float[3];
        Gemm.Multiply(false, false, 3, 1, k, rows, k, ones, 1, columnVector, 1);
        Assert.Equal(expected, columnVector);
    }

    [Theory]
    [InlineData(0, 5, 3)]
    [InlineData(4, 0, 3)]
    [InlineData(4, 5, 0)]
    [InlineData(0, 0, 0)]
    public void ZeroSizedDimension(int m, int n, int k)
    {
        foreach (bool transposeA in new[] { false, true })
        {
            foreach (bool transposeB in new[] { false, true })
            {
                int lda = Math.Max(transposeA ? m : k, 1);
                int ldb = Math.Max(transposeB ? k : n, 1);
                int ldc = Math.Max(n, 1);
                float[] a = new float[(transposeA ? k : m) * lda];
                float[] b = new float[(transposeB ? n : k) * ldb];

                float[] overwritten = Enumerable.Repeat(7f, m * ldc).ToArray();
                Gemm.Multiply(transposeA, transposeB, m, n, k, a, lda, b, ldb, overwritten, ldc);
                float expected = k == 0 ? 0f : 7f;
                Assert.All(overwritten, value => Assert.Equal(expected, value));

                float[] accumulated = Enumerable.Repeat(7f, m * ldc).ToArray();
                Gemm.Multiply(transposeA, transposeB, m, n, k, a, lda, b, ldb, accumulated, ldc, accumulate: true, _twoThreads);
                Assert.All(accumulated, value => Assert.Equal(7f, value));
            }
        }
    }

    [Fact]
    public void ZeroDepth_ClearsOnlyTheMatrixPart()
    {
        float[] c = Enumerable.Repeat(7f, 2 * 5).ToArray();
        Gemm.Multiply(false, false, 2, 3, 0, [], 0, [], 3, c, 5);
        Assert.Equal(new float[] { 0, 0, 0, 7, 7, 0, 0, 0, 7, 7 }, c);
    }

    [Theory]
    [InlineData(300, 513, 129)]
    [InlineData(64, 180, 256)]
    [InlineData(1024, 40, 100)]
    [InlineData(129, 37, 600)]
    [InlineData(257, 255, 33)]
    public void TwoThreads_BitIdenticalToOne(int m, int n, int k)
    {
        var random = new Random(15);
        foreach (bool transposeA in new[] { false, true })
        {
            foreach (bool transposeB in new[] { false, true })
            {
                var problem = Problem.Create(random, transposeA, transposeB, m, n, k, padding: 1);
                float[] single = problem.InitialC.ToArray();
                float[] parallel = problem.InitialC.ToArray();
                using var threeThreads = new WorkerPool(3);
                float[] three = problem.InitialC.ToArray();

                Gemm.Multiply(transposeA, transposeB, m, n, k, problem.A, problem.Lda, problem.B, problem.Ldb, single, problem.Ldc, accumulate: true);
                Gemm.Multiply(transposeA, transposeB, m, n, k, problem.A, problem.Lda, problem.B, problem.Ldb, parallel, problem.Ldc, accumulate: true, _twoThreads);
                Gemm.Multiply(transposeA, transposeB, m, n, k, problem.A, problem.Lda, problem.B, problem.Ldb, three, problem.Ldc, accumulate: true, threeThreads);

                Assertions.BitwiseEqual(single, parallel, $"C of {problem.Name}, 2 threads vs 1");
                Assertions.BitwiseEqual(single, three, $"C of {problem.Name}, 3 threads vs 1");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SteadyStateCalls_AllocateNothing(int threads)
    {
        using var pool = new WorkerPool(threads);
        var random = new Random(16);
        (int M, int N, int K, bool TransposeA, bool TransposeB)[] shapes =
        [
            (64, 180, 256, false, true), (64, 180, 256, true, false), (64, 180, 256, false, false),
            (180, 256, 64, true, false), (300, 513, 129, false, false), (1, 50, 256, false, true),
            (1, 256, 50, false, false), (50, 256, 1, true, false), (40, 1, 15, true, false),
        ];
        var problems = shapes.Select(s => Problem.Create(random, s.TransposeA, s.TransposeB, s.M, s.N, s.K, padding: 2)).ToArray();
        foreach (var problem in problems)
            problem.RunPublic(accumulate: false, pool);

        long allocated = AllocationMeter.LeastAllocated(() =>
        {
            for (int repeat = 0; repeat < 20; repeat++)
            {
                foreach (var problem in problems)
                    problem.RunPublic(accumulate: repeat % 2 == 0, pool);
            }
        });

        Assert.True(allocated == 0, $"{allocated} bytes allocated by {20 * problems.Length} calls after warm-up");
    }

    [Fact]
    public void ShortSpan_ThrowsWithExpectedAndActual()
    {
        float[] a = new float[2 * 3];
        float[] b = new float[3 * 4];
        float[] c = new float[2 * 4];

        var error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 4, 3, a.AsSpan(0, 5), 3, b, 4, c, 4));
        Assert.Equal("a", error.ParamName);
        Assert.Contains("needs at least 6 elements, got 5", error.Message);

        error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, true, 2, 4, 3, a, 3, b.AsSpan(0, 11), 3, c, 4));
        Assert.Equal("b", error.ParamName);
        Assert.Contains("[4, 3] (stored transposed)", error.Message);

        error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 4, 3, a, 3, b, 4, c.AsSpan(0, 7), 4));
        Assert.Equal("c", error.ParamName);
        Assert.Contains("needs at least 8 elements, got 7", error.Message);
    }

    [Fact]
    public void SmallStride_Throws()
    {
        float[] a = new float[100];
        float[] b = new float[100];
        float[] c = new float[100];

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, 2, 4, 3, a, 2, b, 4, c, 4));
        Assert.Equal("lda", error.ParamName);
        Assert.Contains("at least the row length 3", error.Message);

        error = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(true, false, 2, 4, 3, a, 2, b, 3, c, 4));
        Assert.Equal("ldb", error.ParamName);

        error = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, 2, 4, 3, a, 3, b, 4, c, 3));
        Assert.Equal("ldc", error.ParamName);
    }

    [Fact]
    public void NegativeDimension_Throws()
    {
        float[] buffer = new float[16];
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, -1, 2, 2, buffer, 2, buffer, 2, new float[4], 2)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, 2, -1, 2, buffer, 2, buffer, 2, new float[4], 2)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, 2, 2, -1, buffer, 2, buffer, 2, new float[4], 2)).ParamName);
    }

    [Fact]
    public void OverlappingOutput_Throws()
    {
        float[] shared = new float[64];
        float[] other = new float[64];

        var error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, shared, 4, other, 4, shared.AsSpan(8), 4));
        Assert.Equal("c", error.ParamName);
        Assert.Contains("overlaps a", error.Message);

        error = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, other, 4, shared.AsSpan(0, 16), 4, shared.AsSpan(15), 4));
        Assert.Equal("c", error.ParamName);
        Assert.Contains("overlaps b", error.Message);

        // Adjacent but disjoint regions of one array are fine.
        Gemm.Multiply(false, false, 4, 4, 4, other, 4, shared.AsSpan(0, 16), 4, shared.AsSpan(16), 4);
    }

    /// <summary>
    /// One randomly filled product with padded row strides. The padding contains NaN, so a kernel
    /// that reads past a row end produces NaN in C, and a kernel that writes into the padding of
    /// C is caught by the padding check.
    /// </summary>
    private sealed class Problem
    {
        public required bool TransposeA { get; init; }
        public required bool TransposeB { get; init; }
        public required int M { get; init; }
        public required int N { get; init; }
        public required int K { get; init; }
        public required float[] A { get; init; }
        public required int Lda { get; init; }
        public required float[] B { get; init; }
        public required int Ldb { get; init; }
        public required float[] InitialC { get; init; }
        public required int Ldc { get; init; }
        public float[] C { get; private set; } = [];

        public string Name => $"{M}x{N}x{K} {(TransposeA ? 'T' : 'N')}{(TransposeB ? 'T' : 'N')}";

        public static Problem Create(Random random, bool transposeA, bool transposeB, int m, int n, int k, int padding)
        {
            int lda = (transposeA ? m : k) + padding;
            int ldb = (transposeB ? k : n) + padding;
            int ldc = n + padding;
            return new Problem
            {
                TransposeA = transposeA,
                TransposeB = transposeB,
                M = m,
                N = n,
                K = k,
                A = RandomMatrix(random, transposeA ? k : m, transposeA ? m : k, lda),
                Lda = lda,
                B = RandomMatrix(random, transposeB ? n : k, transposeB ? k : n, ldb),
                Ldb = ldb,
                InitialC = RandomMatrix(random, m, n, ldc),
                Ldc = ldc,
            };
        }

        private static float[] RandomMatrix(Random random, int rows, int columns, int stride)
        {
            float[] matrix = new float[rows * stride];
            for (int r = 0; r < rows; r++)
            {
                for (int x = 0; x < stride; x++)
                    matrix[r * stride + x] = x < columns ? (float)(random.NextDouble() * 2 - 1) : float.NaN;
            }
            return matrix;
        }

        public void RunPublic(bool accumulate, WorkerPool? workers)
        {
            if (C.Length != InitialC.Length)
                C = new float[InitialC.Length];
            InitialC.CopyTo(C, 0);
            Gemm.Multiply(TransposeA, TransposeB, M, N, K, A, Lda, B, Ldb, C, Ldc, accumulate, workers);
        }

        public void CheckPublic(bool accumulate, WorkerPool? workers)
        {
            RunPublic(accumulate, workers);
            CompareWithReference(accumulate, $"public path, {(workers is null ? 1 : workers.ThreadCount)} threads");
        }

        public void CheckBlocked(GemmKernel kernel, bool accumulate, WorkerPool? workers)
        {
            C = InitialC.ToArray();
            Gemm.Multiply(kernel, useSmallPaths: false, TransposeA, TransposeB, M, N, K, A, Lda, B, Ldb, C, Ldc, accumulate, workers);
            CompareWithReference(accumulate, $"{kernel.Kind} kernel, {(workers is null ? 1 : workers.ThreadCount)} threads");
        }

        public void CheckBlockedBits(GemmKernel kernel, bool accumulate, WorkerPool? workers)
        {
            C = InitialC.ToArray();
            Gemm.Multiply(kernel, useSmallPaths: false, TransposeA, TransposeB, M, N, K, A, Lda, B, Ldb, C, Ldc, accumulate, workers);

            int blockDepth = GemmBlocked.BlockDepth(K);
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    float c = InitialC[i * Ldc + j];
                    for (int k0 = 0; k0 < K; k0 += blockDepth)
                    {
                        float sum = 0;
                        for (int p = k0; p < Math.Min(K, k0 + blockDepth); p++)
                        {
                            float a = TransposeA ? A[p * Lda + i] : A[i * Lda + p];
                            float b = TransposeB ? B[j * Ldb + p] : B[p * Ldb + j];
                            sum = MathF.FusedMultiplyAdd(a, b, sum);
                        }
                        c = k0 == 0 && !accumulate ? sum : c + sum;
                    }
                    Assert.True(BitConverter.SingleToInt32Bits(c) == BitConverter.SingleToInt32Bits(C[i * Ldc + j]),
                        $"C[{i}, {j}] of {Name}{(accumulate ? " accumulated" : "")} ({kernel.Kind}): {C[i * Ldc + j]:R}, FMA chain gives {c:R}");
                }
            }
        }

        private void CompareWithReference(bool accumulate, string path)
        {
            double[] expected = new double[M * N];
            float[] actual = new float[M * N];
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double sum = accumulate ? InitialC[i * Ldc + j] : 0;
                    for (int p = 0; p < K; p++)
                    {
                        double a = TransposeA ? A[p * Lda + i] : A[i * Lda + p];
                        double b = TransposeB ? B[j * Ldb + p] : B[p * Ldb + j];
                        sum += a * b;
                    }
                    expected[i * N + j] = sum;
                    actual[i * N + j] = C[i * Ldc + j];
                }
            }

            // Products of values in [-1, 1] sum to about sqrt(k) / 3 in magnitude, and float
            // rounding errors grow like sqrt(k) times that.
            double magnitude = 1 + Math.Sqrt(K) / 3;
            double tolerance = 1e-5 * Math.Sqrt(Math.Max(K, 1)) * magnitude;
            string what = $"C of {Name}{(accumulate ? " accumulated" : "")} ({path})";
            Assertions.AllClose(expected, actual, tolerance, 1e-5, what);

            for (int i = 0; i < M; i++)
            {
                for (int x = N; x < Ldc; x++)
                    Assert.True(float.IsNaN(C[i * Ldc + x]), $"{what}: padding of row {i} at column {x} was overwritten");
            }
        }
    }
}
