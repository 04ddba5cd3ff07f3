namespace DigitNet.Kernels;

/// <summary>
/// Single-precision matrix multiply on row-major matrices:
/// <c>C[m, n] = op(A)[m, k] * op(B)[k, n] (+ C when accumulating)</c>, where op transposes when asked.
/// </summary>
/// <remarks>
/// <para>Products with m, n or k equal to 1 (the shapes of per-sample training) take a
/// matrix-vector or outer-product path that needs no packing and no threads. Everything else
/// takes a packed, cache-blocked path with a register-blocked micro-kernel for AVX-512, AVX2 or
/// portable <see cref="System.Numerics.Vector{T}"/> code, whichever the hardware runs best.</para>
/// <para>Results do not depend on the worker pool: every C element is summed in the same order
/// whatever the thread count. The path, and so the order, depends only on the shape and the
/// hardware, so results on another CPU may differ in the last bits.</para>
/// <para>Steady-state calls allocate nothing: packing buffers live per thread and grow on demand.</para>
/// </remarks>
public static class Gemm
{
    // Below about 2^18 multiply-adds (an estimate: about 5 microseconds on one AVX-512 core)
    // waking the pool costs more than the extra threads save.
    private const long ParallelThreshold = 1L << 18;

    /// <summary>
    /// Computes <c>C = op(A) op(B)</c>, or <c>C += op(A) op(B)</c> when <paramref name="accumulate"/> is true.
    /// </summary>
    /// <param name="transposeA">Whether <paramref name="a"/> contains A transposed, as <c>[k, m]</c>.</param>
    /// <param name="transposeB">Whether <paramref name="b"/> contains B transposed, as <c>[n, k]</c>.</param>
    /// <param name="m">Rows of op(A) and of C.</param>
    /// <param name="n">Columns of op(B) and of C.</param>
    /// <param name="k">Columns of op(A) and rows of op(B).</param>
    /// <param name="a"><c>[m, k]</c>, or <c>[k, m]</c> when <paramref name="transposeA"/>, row-major.</param>
    /// <param name="lda">Row stride of <paramref name="a"/> in elements; at least its row length.</param>
    /// <param name="b"><c>[k, n]</c>, or <c>[n, k]</c> when <paramref name="transposeB"/>, row-major.</param>
    /// <param name="ldb">Row stride of <paramref name="b"/> in elements; at least its row length.</param>
    /// <param name="c"><c>[m, n]</c>, row-major; must not overlap <paramref name="a"/> or <paramref name="b"/>.</param>
    /// <param name="ldc">Row stride of <paramref name="c"/> in elements; at least <paramref name="n"/>.</param>
    /// <param name="accumulate">Whether to add the product to C instead of overwriting it. With k = 0 and
    /// no accumulation, C is set to zero.</param>
    /// <param name="workers">Pool that large products are split across; null runs on the calling thread.</param>
    /// <exception cref="ArgumentException">A dimension or stride is negative or too small, a span is shorter
    /// than its dimensions and stride need, or C overlaps A or B.</exception>
    public static void Multiply(
        bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate = false, WorkerPool? workers = null)
    {
        Multiply(GemmKernel.Best, useSmallPaths: true,
            transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, workers);
    }

    /// <summary>
    /// <see cref="Multiply(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, bool, WorkerPool?)"/>
    /// with a chosen micro-kernel, and optionally without the matrix-vector paths, so tests can
    /// reach every kernel on one machine.
    /// </summary>
    internal static unsafe void Multiply(
        GemmKernel kernel, bool useSmallPaths,
        bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate, WorkerPool? workers)
    {
        Validate(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc);
        if (m == 0 || n == 0)
            return;

        if (k == 0)
        {
            if (!accumulate)
            {
                for (int i = 0; i < m; i++)
                    c.Slice(i * ldc, n).Clear();
            }
            return;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            var op = new GemmOperands
            {
                TransposeA = transposeA,
                TransposeB = transposeB,
                M = m,
                N = n,
                K = k,
                A = pa,
                Lda = lda,
                B = pb,
                Ldb = ldb,
                C = pc,
                Ldc = ldc,
                Accumulate = accumulate,
            };

            if (useSmallPaths && (m == 1 || n == 1 || k == 1))
            {
                GemmSmall.Multiply(op);
                return;
            }

            if (useSmallPaths && GemmDotTiles.Suits(op))
            {
                GemmDotTiles.Multiply(op, workers, ParallelThreshold);
                return;
            }

            // A narrow C, such as the [batch, 10] logits of a classifier, would leave most of the
            // kernel's columns (32 for AVX-512) empty. Computing C^T = op(B)^T op(A)^T fills them,
            // at the cost of writing every tile through the transposing edge path.
            if (PaddedTileArea(n, m, kernel) * 2 <= PaddedTileArea(m, n, kernel))
            {
                op = op.Transposed();
                (m, n) = (n, m);
            }

            int columnPanels = (n + kernel.Columns - 1) / kernel.Columns;
            int rowPanels = (m + kernel.Rows - 1) / kernel.Rows;
            bool parallel = workers is { ThreadCount: > 1 }
                && (long)m * n * k >= ParallelThreshold
                && Math.Max(columnPanels, rowPanels) > 1;
            if (!parallel)
            {
                GemmBlocked.Multiply(op, kernel, 0, m, 0, n);
                return;
            }

            // Split the side whose panels divide more evenly among the workers. On a tie, note
            // that each worker packs the whole operand that is not split: splitting columns
            // repeats the packing of A (m * k values) and splitting rows that of B (k * n values).
            int threads = workers!.ThreadCount;
            double columnBalance = Balance(columnPanels, threads);
            double rowBalance = Balance(rowPanels, threads);
            bool splitColumns = columnBalance != rowBalance ? columnBalance > rowBalance : m <= n;
            GemmParallelJob.Run(op, kernel, workers, splitColumns);
        }
    }

    /// <summary>
    /// Returns the fraction of the busiest worker's time that the average worker is busy when
    /// <paramref name="panels"/> equal panels are split statically among <paramref name="threads"/>.
    /// </summary>
    private static double Balance(int panels, int threads)
    {
        int busiest = (panels + threads - 1) / threads;
        return panels / (double)(busiest * threads);
    }

    /// <summary>Returns the area of the kernel tiles that cover an m x n product, padding included.</summary>
    private static long PaddedTileArea(int m, int n, GemmKernel kernel)
    {
        long rows = (m + kernel.Rows - 1) / kernel.Rows * kernel.Rows;
        long columns = (n + kernel.Columns - 1) / kernel.Columns * kernel.Columns;
        return rows * columns;
    }

    private static void Validate(
        bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);

        long aLength = RequiredLength(transposeA ? k : m, transposeA ? m : k, lda, a.Length, "a", "lda", transposeA);
        long bLength = RequiredLength(transposeB ? n : k, transposeB ? k : n, ldb, b.Length, "b", "ldb", transposeB);
        long cLength = RequiredLength(m, n, ldc, c.Length, "c", "ldc", transposed: false);

        ReadOnlySpan<float> cUsed = c[..(int)cLength];
        if (cUsed.Overlaps(a[..(int)aLength]))
            throw new ArgumentException("c overlaps a. Pass an output buffer that is separate from both inputs.", nameof(c));
        if (cUsed.Overlaps(b[..(int)bLength]))
            throw new ArgumentException("c overlaps b. Pass an output buffer that is separate from both inputs.", nameof(c));
    }

    /// <summary>
    /// Checks the stride and span length of a <paramref name="rows"/> x <paramref name="columns"/> matrix
    /// and returns the number of elements it spans.
    /// </summary>
    private static long RequiredLength(int rows, int columns, int stride, int length, string name, string strideName, bool transposed)
    {
        if (stride < columns)
        {
            throw new ArgumentOutOfRangeException(strideName, stride,
                $"{strideName} must be at least the row length {columns} of {name} {Shape(rows, columns, transposed)}, got {stride}");
        }

        long required = rows == 0 || columns == 0 ? 0 : (long)(rows - 1) * stride + columns;
        if (length < required)
        {
            throw new ArgumentException(
                $"{name} {Shape(rows, columns, transposed)} with row stride {strideName}={stride} needs at least {required} elements, got {length}",
                name);
        }
        return required;
    }

    private static string Shape(int rows, int columns, bool transposed) =>
        $"[{rows}, {columns}]" + (transposed ? " (stored transposed)" : "");
}
