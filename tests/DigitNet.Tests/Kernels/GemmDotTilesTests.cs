using DigitNet.Kernels;
using DigitNet.Tests.TestUtil;

namespace DigitNet.Tests.Kernels;

/// <summary>
/// The dot-product path of <see cref="Gemm"/> (A not transposed, B transposed, depth of 512 or
/// more, small C), checked through the public entry point against a double-precision reference.
/// </summary>
public sealed class GemmDotTilesTests : IDisposable
{
    private readonly WorkerPool _twoThreads = new(2);

    public void Dispose() => _twoThreads.Dispose();

    /// <summary>
    /// m and n around the 4 x 3 tile (partial tiles on both sides), and depths with no tail, a tail of
    /// one and a tail of 15 values after the last full 16-float vector.
    /// </summary>
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 2, 2, 2048 },
        { 4, 3, 2048 },
        { 5, 4, 2049 },
        { 7, 9, 2063 },
        { 16, 9, 4096 },
        { 17, 13, 2111 },
        { 9, 7, 527 },
        { 32, 144, 896 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReference(int m, int n, int k)
    {
        var random = new Random(m * 100 + n);
        foreach (bool accumulate in new[] { false, true })
        {
            foreach (WorkerPool? pool in new[] { null, _twoThreads })
            {
                var problem = DotProblem.Create(random, m, n, k);
                problem.Run(accumulate, pool);
                problem.CheckAgainstReference(accumulate, pool is null ? "1 thread" : "2 threads");
            }
        }
    }

    [Fact]
    public void TwoThreads_BitIdenticalToOne()
    {
        var problem = DotProblem.Create(new Random(3), 32, 144, 4096);
        problem.Run(accumulate: false, workers: null);
        float[] single = problem.C.ToArray();

        problem.Run(accumulate: false, _twoThreads);

        Assertions.BitwiseEqual(single, problem.C, "C of 32x144x4096 NT, 2 threads vs 1");
    }

    [Fact]
    public void InfinityInTail_StaysInfinite()
    {
        // The last value of the row lies in the scalar tail; inf * 1 must give inf, not NaN.
        int k = 2049;
        float[] a = new float[k];
        float[] b = new float[k];
        a[k - 1] = float.PositiveInfinity;
        b[k - 1] = 1;
        float[] c = new float[1];

        Gemm.Multiply(false, true, 1, 1, k, a, k, b, k, c, 1);

        Assert.Equal(float.PositiveInfinity, c[0]);
    }

    [Fact]
    public void SteadyStateCalls_AllocateNothing()
    {
        var problem = DotProblem.Create(new Random(4), 16, 9, 16384);
        problem.Run(accumulate: false, _twoThreads);
        problem.Run(accumulate: false, workers: null);

        long allocated = AllocationMeter.LeastAllocated(() =>
        {
            for (int repeat = 0; repeat < 10; repeat++)
                problem.Run(accumulate: repeat % 2 == 0, repeat % 3 == 0 ? null : _twoThreads);
        });

        Assert.True(allocated == 0, $"{allocated} bytes allocated by 10 calls after warm-up");
    }

    /// <summary>
    /// <c>C[m, n] = A[m, k] B[n, k]^T</c> with random values in [-1, 1] and row strides padded by
    /// NaN, so a read past a row end shows as NaN in C and a write past one is caught.
    /// </summary>
    private sealed class DotProblem
    {
        private const int Padding = 3;

        private DotProblem(int m, int n, int k, float[] a, float[] b, float[] initialC)
        {
            M = m;
            N = n;
            K = k;
            A = a;
            B = b;
            InitialC = initialC;
            C = new float[initialC.Length];
        }

        public int M { get; }
        public int N { get; }
        public int K { get; }
        public float[] A { get; }
        public float[] B { get; }
        public float[] InitialC { get; }
        public float[] C { get; }
        private int Lda => K + Padding;
        private int Ldb => K + Padding;
        private int Ldc => N + Padding;

        public static DotProblem Create(Random random, int m, int n, int k) =>
            new(m, n, k, RandomMatrix(random, m, k), RandomMatrix(random, n, k), RandomMatrix(random, m, n));

        private static float[] RandomMatrix(Random random, int rows, int columns)
        {
            int stride = columns + Padding;
            float[] matrix = new float[rows * stride];
            for (int r = 0; r < rows; r++)
            {
                for (int x = 0; x < stride; x++)
                    matrix[r * stride + x] = x < columns ? (float)(random.NextDouble() * 2 - 1) : float.NaN;
            }
            return matrix;
        }

        public void Run(bool accumulate, WorkerPool? workers)
        {
            InitialC.CopyTo(C, 0);
            Gemm.Multiply(false, true, M, N, K, A, Lda, B, Ldb, C, Ldc, accumulate, workers);
        }

        public void CheckAgainstReference(bool accumulate, string threads)
        {
            double[] expected = new double[M * N];
            float[] actual = new float[M * N];
            for (int i = 0; i < M; i++)
            {
                for (int j = 0; j < N; j++)
                {
                    double sum = accumulate ? InitialC[i * Ldc + j] : 0;
                    for (int p = 0; p < K; p++)
                        sum += (double)A[i * Lda + p] * B[j * Ldb + p];
                    expected[i * N + j] = sum;
                    actual[i * N + j] = C[i * Ldc + j];
                }
            }

            // Float rounding error of a k-term sum of products in [-1, 1] grows like sqrt(k) times its magnitude.
            double tolerance = 1e-5 * Math.Sqrt(K) * (1 + Math.Sqrt(K) / 3);
            string what = $"C of {M}x{N}x{K} NT{(accumulate ? " accumulated" : "")} ({threads})";
            Assertions.AllClose(expected, actual, tolerance, 1e-5, what);

            for (int i = 0; i < M; i++)
            {
                for (int x = N; x < Ldc; x++)
                    Assert.True(float.IsNaN(C[i * Ldc + x]), $"{what}: padding of row {i} at column {x} was overwritten");
            }
        }
    }
}
