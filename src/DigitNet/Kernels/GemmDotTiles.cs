using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DigitNet.Kernels;

/// <summary>
/// The path of <see cref="Gemm"/> for <c>C = A B^T</c> with a long shared dimension and a small C,
/// such as a convolution's weight gradient <c>dW[OUT, C*KH*KW] = dy[OUT, N*P] col[C*KH*KW, N*P]^T</c>.
/// Each C element is the dot product of a row of A and a row of B, both contiguous, so the
/// operands are read in place: packing them would cost as much as the product.
/// </summary>
/// <remarks>
/// A tile of 4 rows of A by 3 rows of B keeps 12 vector sums in registers, so each step loads 7
/// vectors for 12 FMAs. Every C element is one chain of vector FMAs over k, then a horizontal sum,
/// then the scalar tail, so its value depends only on the shape, never on the thread count.
/// </remarks>
internal static unsafe class GemmDotTiles
{
    private const int TileRows = 4;
    private const int TileColumns = 3;

    // With AVX-512's 32 vector registers a tile takes 8 rows of A: 24 sums, 11 loads per step.
    private const int WideTileRows = 8;

    /// <summary>
    /// Returns the rows of A per tile: 8 with AVX-512, unless A's rows are a multiple of 4 KiB
    /// apart. Then 11 row streams compete for the same L1 sets, and 16x9x2048 (one group of a
    /// convolution's weight gradient) ran at 0.67 of OpenBLAS with 8 rows against 0.90 with 4.
    /// </summary>
    private static int RowsPerTile(in GemmOperands op) =>
        Vector512.IsHardwareAccelerated && op.Lda % 1024 != 0 ? WideTileRows : TileRows;

    /// <summary>
    /// Returns whether this path suits the product: A not transposed, B transposed, a depth of at
    /// least 512 and a C of at most 16,384 elements. Below that depth, or for a larger C, the packed
    /// path reuses each loaded value more often. Measured on an AVX-512 AMD EPYC core: 32x144x896
    /// (conv2's weight gradient for a chunk of 14 samples) ran at 86 GFLOP/s here against 55 on
    /// the packed path, while 64x180x256 (a dense layer's forward pass) ran at half the packed speed.
    /// </summary>
    public static bool Suits(in GemmOperands op) =>
        !op.TransposeA && op.TransposeB && !op.TransposeC && op.K >= 512 && (long)op.M * op.N <= 16_384;

    /// <summary>Computes C, split over row tiles across <paramref name="workers"/> when given.</summary>
    public static void Multiply(in GemmOperands op, WorkerPool? workers, long parallelThreshold)
    {
        int rowTiles = (op.M + RowsPerTile(op) - 1) / RowsPerTile(op);
        if (workers is { ThreadCount: > 1 } && rowTiles > 1 && (long)op.M * op.N * op.K >= parallelThreshold)
            DotTileJob.Run(op, workers, rowTiles);
        else
            MultiplyRows(op, 0, op.M);
    }

    /// <summary>Computes rows [<paramref name="rowBegin"/>, <paramref name="rowEnd"/>) of C.</summary>
    public static void MultiplyRows(in GemmOperands op, int rowBegin, int rowEnd)
    {
        if (Vector512.IsHardwareAccelerated)
            MultiplyRows<Vector512Ops, Vector512<float>>(op, rowBegin, rowEnd);
        else if (Vector256.IsHardwareAccelerated)
            MultiplyRows<Vector256Ops, Vector256<float>>(op, rowBegin, rowEnd);
        else
            MultiplyRows<Vector128Ops, Vector128<float>>(op, rowBegin, rowEnd);
    }

    private static void MultiplyRows<TOps, TVector>(in GemmOperands op, int rowBegin, int rowEnd)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        int tileRows = typeof(TVector) == typeof(Vector512<float>) ? RowsPerTile(op) : TileRows;
        float** aRows = stackalloc float*[WideTileRows];
        float** bRows = stackalloc float*[TileColumns];
        float* sums = stackalloc float[WideTileRows * TileColumns];

        for (int i = rowBegin; i < rowEnd; i += tileRows)
        {
            int rows = Math.Min(tileRows, rowEnd - i);

            // A partial tile repeats its last row or column; the repeats are computed and dropped.
            for (int r = 0; r < tileRows; r++)
                aRows[r] = op.A + (i + Math.Min(r, rows - 1)) * op.Lda;

            for (int j = 0; j < op.N; j += TileColumns)
            {
                int columns = Math.Min(TileColumns, op.N - j);
                for (int s = 0; s < TileColumns; s++)
                    bRows[s] = op.B + (j + Math.Min(s, columns - 1)) * op.Ldb;

                if (tileRows == WideTileRows)
                    DotTile8x3(op.K, aRows, bRows, sums);
                else
                    DotTile<TOps, TVector>(op.K, aRows, bRows, sums);
                for (int r = 0; r < rows; r++)
                {
                    float* c = op.C + (i + r) * op.Ldc + j;
                    for (int s = 0; s < columns; s++)
                        c[s] = op.Accumulate ? sums[r * TileColumns + s] + c[s] : sums[r * TileColumns + s];
                }
            }
        }
    }

    /// <summary>Writes the 4 x 3 dot products of four A rows with three B rows, each of <paramref name="length"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile<TOps, TVector>(int length, float** aRows, float** bRows, float* sums)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        float* a0 = aRows[0], a1 = aRows[1], a2 = aRows[2], a3 = aRows[3];
        float* b0 = bRows[0], b1 = bRows[1], b2 = bRows[2];
        TVector s00 = TOps.Zero, s01 = TOps.Zero, s02 = TOps.Zero;
        TVector s10 = TOps.Zero, s11 = TOps.Zero, s12 = TOps.Zero;
        TVector s20 = TOps.Zero, s21 = TOps.Zero, s22 = TOps.Zero;
        TVector s30 = TOps.Zero, s31 = TOps.Zero, s32 = TOps.Zero;

        int width = TOps.Count;
        int fullLength = length - length % width;
        for (int p = 0; p < fullLength; p += width)
        {
            TVector v0 = TOps.Load(b0 + p), v1 = TOps.Load(b1 + p), v2 = TOps.Load(b2 + p);
            TVector u = TOps.Load(a0 + p);
            s00 = TOps.MultiplyAdd(u, v0, s00);
            s01 = TOps.MultiplyAdd(u, v1, s01);
            s02 = TOps.MultiplyAdd(u, v2, s02);
            u = TOps.Load(a1 + p);
            s10 = TOps.MultiplyAdd(u, v0, s10);
            s11 = TOps.MultiplyAdd(u, v1, s11);
            s12 = TOps.MultiplyAdd(u, v2, s12);
            u = TOps.Load(a2 + p);
            s20 = TOps.MultiplyAdd(u, v0, s20);
            s21 = TOps.MultiplyAdd(u, v1, s21);
            s22 = TOps.MultiplyAdd(u, v2, s22);
            u = TOps.Load(a3 + p);
            s30 = TOps.MultiplyAdd(u, v0, s30);
            s31 = TOps.MultiplyAdd(u, v1, s31);
            s32 = TOps.MultiplyAdd(u, v2, s32);
        }

        sums[0] = TOps.Sum(s00); sums[1] = TOps.Sum(s01); sums[2] = TOps.Sum(s02);
        sums[3] = TOps.Sum(s10); sums[4] = TOps.Sum(s11); sums[5] = TOps.Sum(s12);
        sums[6] = TOps.Sum(s20); sums[7] = TOps.Sum(s21); sums[8] = TOps.Sum(s22);
        sums[9] = TOps.Sum(s30); sums[10] = TOps.Sum(s31); sums[11] = TOps.Sum(s32);

        AddTail(length, fullLength, aRows, bRows, TileRows, sums);
    }

    /// <summary>
    /// The 8 x 3 tile of AVX-512: the dot products of eight A rows with three B rows, each of
    /// <paramref name="length"/> values, summed in the same order as <see cref="DotTile"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTile8x3(int length, float** aRows, float** bRows, float* sums)
    {
        float* a0 = aRows[0], a1 = aRows[1], a2 = aRows[2], a3 = aRows[3];
        float* a4 = aRows[4], a5 = aRows[5], a6 = aRows[6], a7 = aRows[7];
        float* b0 = bRows[0], b1 = bRows[1], b2 = bRows[2];
        Vector512<float> s00 = default, s01 = default, s02 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default;
        Vector512<float> s40 = default, s41 = default, s42 = default;
        Vector512<float> s50 = default, s51 = default, s52 = default;
        Vector512<float> s60 = default, s61 = default, s62 = default;
        Vector512<float> s70 = default, s71 = default, s72 = default;

        int fullLength = length - length % Vector512<float>.Count;
        for (int p = 0; p < fullLength; p += Vector512<float>.Count)
        {
            Vector512<float> v0 = Vector512.Load(b0 + p), v1 = Vector512.Load(b1 + p), v2 = Vector512.Load(b2 + p);
            Vector512<float> u = Vector512.Load(a0 + p);
            s00 = Avx512F.FusedMultiplyAdd(u, v0, s00);
            s01 = Avx512F.FusedMultiplyAdd(u, v1, s01);
            s02 = Avx512F.FusedMultiplyAdd(u, v2, s02);
            u = Vector512.Load(a1 + p);
            s10 = Avx512F.FusedMultiplyAdd(u, v0, s10);
            s11 = Avx512F.FusedMultiplyAdd(u, v1, s11);
            s12 = Avx512F.FusedMultiplyAdd(u, v2, s12);
            u = Vector512.Load(a2 + p);
            s20 = Avx512F.FusedMultiplyAdd(u, v0, s20);
            s21 = Avx512F.FusedMultiplyAdd(u, v1, s21);
            s22 = Avx512F.FusedMultiplyAdd(u, v2, s22);
            u = Vector512.Load(a3 + p);
            s30 = Avx512F.FusedMultiplyAdd(u, v0, s30);
            s31 = Avx512F.FusedMultiplyAdd(u, v1, s31);
            s32 = Avx512F.FusedMultiplyAdd(u, v2, s32);
            u = Vector512.Load(a4 + p);
            s40 = Avx512F.FusedMultiplyAdd(u, v0, s40);
            s41 = Avx512F.FusedMultiplyAdd(u, v1, s41);
            s42 = Avx512F.FusedMultiplyAdd(u, v2, s42);
            u = Vector512.Load(a5 + p);
            s50 = Avx512F.FusedMultiplyAdd(u, v0, s50);
            s51 = Avx512F.FusedMultiplyAdd(u, v1, s51);
            s52 = Avx512F.FusedMultiplyAdd(u, v2, s52);
            u = Vector512.Load(a6 + p);
            s60 = Avx512F.FusedMultiplyAdd(u, v0, s60);
            s61 = Avx512F.FusedMultiplyAdd(u, v1, s61);
            s62 = Avx512F.FusedMultiplyAdd(u, v2, s62);
            u = Vector512.Load(a7 + p);
            s70 = Avx512F.FusedMultiplyAdd(u, v0, s70);
            s71 = Avx512F.FusedMultiplyAdd(u, v1, s71);
            s72 = Avx512F.FusedMultiplyAdd(u, v2, s72);
        }

        sums[0] = Vector512.Sum(s00); sums[1] = Vector512.Sum(s01); sums[2] = Vector512.Sum(s02);
        sums[3] = Vector512.Sum(s10); sums[4] = Vector512.Sum(s11); sums[5] = Vector512.Sum(s12);
        sums[6] = Vector512.Sum(s20); sums[7] = Vector512.Sum(s21); sums[8] = Vector512.Sum(s22);
        sums[9] = Vector512.Sum(s30); sums[10] = Vector512.Sum(s31); sums[11] = Vector512.Sum(s32);
        sums[12] = Vector512.Sum(s40); sums[13] = Vector512.Sum(s41); sums[14] = Vector512.Sum(s42);
        sums[15] = Vector512.Sum(s50); sums[16] = Vector512.Sum(s51); sums[17] = Vector512.Sum(s52);
        sums[18] = Vector512.Sum(s60); sums[19] = Vector512.Sum(s61); sums[20] = Vector512.Sum(s62);
        sums[21] = Vector512.Sum(s70); sums[22] = Vector512.Sum(s71); sums[23] = Vector512.Sum(s72);
        AddTail(length, fullLength, aRows, bRows, WideTileRows, sums);
    }

    /// <summary>Adds the products of the steps from <paramref name="fullLength"/> to <paramref name="length"/>, one value at a time.</summary>
    private static void AddTail(int length, int fullLength, float** aRows, float** bRows, int rows, float* sums)
    {
        for (int p = fullLength; p < length; p++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int s = 0; s < TileColumns; s++)
                    sums[r * TileColumns + s] = MathF.FusedMultiplyAdd(aRows[r][p], bRows[s][p], sums[r * TileColumns + s]);
            }
        }
    }

    /// <summary>Splits the rows of C in whole tiles across a pool; one cached job per calling thread, so nothing allocates.</summary>
    private sealed class DotTileJob : IParallelJob
    {
        [ThreadStatic] private static DotTileJob? t_instance;

        private GemmOperands _operands;

        public static void Run(in GemmOperands op, WorkerPool workers, int rowTiles)
        {
            DotTileJob job = t_instance ??= new DotTileJob();
            job._operands = op;
            try
            {
                workers.Run(job, rowTiles);
            }
            finally
            {
                // Drop the pointers so a stale job cannot touch memory that is no longer pinned.
                job._operands = default;
            }
        }

        public void Execute(int begin, int end, int worker) =>
            MultiplyRows(_operands, begin * RowsPerTile(_operands), Math.Min(end * RowsPerTile(_operands), _operands.M));
    }
}
