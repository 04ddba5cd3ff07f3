using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DigitNet.Kernels;

/// <summary>Instruction sets for which <see cref="Gemm"/> has a micro-kernel.</summary>
internal enum GemmKernelKind
{
    /// <summary><see cref="Vector{T}"/> code that runs on any hardware.</summary>
    Portable,

    /// <summary>AVX2 with FMA, 256-bit vectors.</summary>
    Avx2,

    /// <summary>AVX-512F, 512-bit vectors.</summary>
    Avx512,
}

/// <summary>
/// A micro-kernel and its tile shape: it computes a <see cref="Rows"/> x <see cref="Columns"/> tile
/// of C from a packed A panel and a packed B panel.
/// </summary>
internal readonly struct GemmKernel
{
    private GemmKernel(GemmKernelKind kind, int rows, int columns)
    {
        Kind = kind;
        Rows = rows;
        Columns = columns;
    }

    public GemmKernelKind Kind { get; }

    /// <summary>Rows of the C tile (MR), also the row count of a packed A panel.</summary>
    public int Rows { get; }

    /// <summary>Columns of the C tile (NR), also the column count of a packed B panel.</summary>
    public int Columns { get; }

    /// <summary>The fastest kernel the current hardware runs.</summary>
    public static GemmKernel Best { get; } = Create(
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? GemmKernelKind.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? GemmKernelKind.Avx2
        : GemmKernelKind.Portable);

    public static bool IsSupported(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Avx512 => Avx512F.IsSupported,
        GemmKernelKind.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    public static GemmKernel Create(GemmKernelKind kind) => kind switch
    {
        // 16 zmm accumulators leave 16 registers for the two B vectors and the A broadcasts.
        GemmKernelKind.Avx512 => new GemmKernel(kind, 8, 32),

        // 12 ymm accumulators + 2 B vectors + 1 broadcast fit the 16 registers of AVX2.
        GemmKernelKind.Avx2 => new GemmKernel(kind, 6, 16),
        _ => new GemmKernel(kind, 4, 2 * Vector<float>.Count),
    };

    /// <summary>
    /// Computes the full tile <c>C = A_panel * B_panel</c>, or <c>C += ...</c> when <paramref name="addToC"/>.
    /// </summary>
    /// <param name="depth">Shared dimension of the two panels.</param>
    /// <param name="a">Packed A panel: for each of the <paramref name="depth"/> steps, <see cref="Rows"/> values.</param>
    /// <param name="b">Packed B panel: for each step, <see cref="Columns"/> values.</param>
    /// <param name="c">Top-left element of the tile.</param>
    /// <param name="ldc">Row stride of C in elements.</param>
    /// <param name="addToC">Whether to add to C instead of overwriting it.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Invoke(int depth, float* a, float* b, float* c, nint ldc, bool addToC)
    {
        switch (Kind)
        {
            case GemmKernelKind.Avx512:
                GemmMicroKernels.Avx512Tile8x32(depth, a, 1, 8, b, 32, c, ldc, addToC);
                break;
            case GemmKernelKind.Avx2:
                GemmMicroKernels.Avx2Tile6x16(depth, a, 1, 6, b, 16, c, ldc, addToC);
                break;
            default:
                GemmMicroKernels.PortableTile4x2V(depth, a, b, c, ldc, addToC);
                break;
        }
    }
}

/// <summary>
/// Register-blocked inner kernels of <see cref="Gemm"/>. Each keeps a whole C tile in vector
/// registers for the full depth of the packed panels, so every loaded B vector and every
/// broadcast A value feeds several FMAs, and C is read and written once per panel pair.
/// </summary>
/// <remarks>
/// Every C element is computed as one chain of multiply-adds in increasing k (the AVX-512 kernels
/// start it with a multiply), then added to C once. The
/// packing code and the edge handling keep that order, so a C element gets the same bits whatever
/// tile, thread or partition computes it.
/// </remarks>
internal static unsafe class GemmMicroKernels
{
    /// <summary>
    /// 8 x 32 tile with AVX-512: 16 accumulators, 2 B loads and 8 broadcasts per step of k. A value
    /// (r, p) is <c>a[r * aRowStride + p * aDepthStride]</c> and the 32 B values of step p start at
    /// <c>b + p * bDepthStride</c>, so the kernel reads packed panels (strides 1, 8 and 32) and
    /// panels of small products in place alike, as fast in both cases. Depth must be at least 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Avx512Tile8x32(int depth, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, nint ldc, bool addToC)
    {
        // Rows 0-3 are read from a0 and rows 4-7 from a4, at offsets 0, s1, s2 and s3 (0 to 3 rows).
        float* a0 = a;
        float* a4 = a + 4 * aRowStride;
        nint s1 = aRowStride, s2 = 2 * aRowStride, s3 = 3 * aRowStride;

        // Step 0 multiplies instead of adding to zeroed accumulators. The sums are the same but
        // for the sign of an exact zero, and on Zen 4 16x2048x9, with 9 steps a tile, ran 9%
        // faster than with the accumulators zeroed first.
        Vector512<float> b0 = Vector512.Load(b);
        Vector512<float> b1 = Vector512.Load(b + 16);
        Vector512<float> ai = Vector512.Create(a0[0]);
        Vector512<float> c00 = ai * b0, c01 = ai * b1;
        ai = Vector512.Create(a0[s1]);
        Vector512<float> c10 = ai * b0, c11 = ai * b1;
        ai = Vector512.Create(a0[s2]);
        Vector512<float> c20 = ai * b0, c21 = ai * b1;
        ai = Vector512.Create(a0[s3]);
        Vector512<float> c30 = ai * b0, c31 = ai * b1;
        ai = Vector512.Create(a4[0]);
        Vector512<float> c40 = ai * b0, c41 = ai * b1;
        ai = Vector512.Create(a4[s1]);
        Vector512<float> c50 = ai * b0, c51 = ai * b1;
        ai = Vector512.Create(a4[s2]);
        Vector512<float> c60 = ai * b0, c61 = ai * b1;
        ai = Vector512.Create(a4[s3]);
        Vector512<float> c70 = ai * b0, c71 = ai * b1;
        a0 += aDepthStride;
        a4 += aDepthStride;
        b += bDepthStride;

        for (int p = 1; p < depth; p++)
        {
            b0 = Vector512.Load(b);
            b1 = Vector512.Load(b + 16);

            ai = Vector512.Create(a0[0]);
            c00 = Avx512F.FusedMultiplyAdd(ai, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a0[s1]);
            c10 = Avx512F.FusedMultiplyAdd(ai, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a0[s2]);
            c20 = Avx512F.FusedMultiplyAdd(ai, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a0[s3]);
            c30 = Avx512F.FusedMultiplyAdd(ai, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a4[0]);
            c40 = Avx512F.FusedMultiplyAdd(ai, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a4[s1]);
            c50 = Avx512F.FusedMultiplyAdd(ai, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a4[s2]);
            c60 = Avx512F.FusedMultiplyAdd(ai, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a4[s3]);
            c70 = Avx512F.FusedMultiplyAdd(ai, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(ai, b1, c71);

            a0 += aDepthStride;
            a4 += aDepthStride;
            b += bDepthStride;
        }

        StoreRow512(c, c00, c01, addToC);
        StoreRow512(c + ldc, c10, c11, addToC);
        StoreRow512(c + 2 * ldc, c20, c21, addToC);
        StoreRow512(c + 3 * ldc, c30, c31, addToC);
        StoreRow512(c + 4 * ldc, c40, c41, addToC);
        StoreRow512(c + 5 * ldc, c50, c51, addToC);
        StoreRow512(c + 6 * ldc, c60, c61, addToC);
        StoreRow512(c + 7 * ldc, c70, c71, addToC);
    }

    /// <summary>
    /// The left half of <see cref="Avx512Tile8x32"/>: an 8 x 16 tile from the first 16
    /// of the 32 B values of each step, with the same FMA order. For edge panels of at most 16
    /// valid columns it does half the work of the full tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512Tile8x16(int depth, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, nint ldc, bool addToC)
    {
        float* a0 = a;
        float* a4 = a + 4 * aRowStride;
        nint s1 = aRowStride, s2 = 2 * aRowStride, s3 = 3 * aRowStride;

        // Step 0 multiplies, as in the full tile, so a zero sum gets the same sign in both.
        Vector512<float> b0 = Vector512.Load(b);
        Vector512<float> c0 = Vector512.Create(a0[0]) * b0, c1 = Vector512.Create(a0[s1]) * b0;
        Vector512<float> c2 = Vector512.Create(a0[s2]) * b0, c3 = Vector512.Create(a0[s3]) * b0;
        Vector512<float> c4 = Vector512.Create(a4[0]) * b0, c5 = Vector512.Create(a4[s1]) * b0;
        Vector512<float> c6 = Vector512.Create(a4[s2]) * b0, c7 = Vector512.Create(a4[s3]) * b0;
        a0 += aDepthStride;
        a4 += aDepthStride;
        b += bDepthStride;

        for (int p = 1; p < depth; p++)
        {
            b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[s1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[s2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[s3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[0]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[s1]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[s2]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[s3]), b0, c7);
            a0 += aDepthStride;
            a4 += aDepthStride;
            b += bDepthStride;
        }

        StoreHalfRow512(c, c0, addToC);
        StoreHalfRow512(c + ldc, c1, addToC);
        StoreHalfRow512(c + 2 * ldc, c2, addToC);
        StoreHalfRow512(c + 3 * ldc, c3, addToC);
        StoreHalfRow512(c + 4 * ldc, c4, addToC);
        StoreHalfRow512(c + 5 * ldc, c5, addToC);
        StoreHalfRow512(c + 6 * ldc, c6, addToC);
        StoreHalfRow512(c + 7 * ldc, c7, addToC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreHalfRow512(float* c, Vector512<float> sum, bool addToC)
    {
        if (addToC)
            sum += Vector512.Load(c);
        sum.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow512(float* c, Vector512<float> sum0, Vector512<float> sum1, bool addToC)
    {
        if (addToC)
        {
            sum0 += Vector512.Load(c);
            sum1 += Vector512.Load(c + 16);
        }
        sum0.Store(c);
        sum1.Store(c + 16);
    }

    /// <summary>
    /// 6 x 16 tile with AVX2 and FMA: 12 accumulators, 2 B loads and 6 broadcasts per step of k.
    /// Operands are addressed as in <see cref="Avx512Tile8x32"/>, so the kernel reads packed
    /// panels (strides 1, 6 and 16) and panels of small products in place alike.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Tile6x16(int depth, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, nint ldc, bool addToC)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;

        // Rows 0-2 are read from a0 and rows 3-5 from a3, at offsets 0, s1 and s2 (0 to 2 rows).
        float* a0 = a;
        float* a3 = a + 3 * aRowStride;
        nint s1 = aRowStride, s2 = 2 * aRowStride;
        for (int p = 0; p < depth; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);

            Vector256<float> ai = Vector256.Create(a0[0]);
            c00 = Fma.MultiplyAdd(ai, b0, c00);
            c01 = Fma.MultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a0[s1]);
            c10 = Fma.MultiplyAdd(ai, b0, c10);
            c11 = Fma.MultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a0[s2]);
            c20 = Fma.MultiplyAdd(ai, b0, c20);
            c21 = Fma.MultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a3[0]);
            c30 = Fma.MultiplyAdd(ai, b0, c30);
            c31 = Fma.MultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a3[s1]);
            c40 = Fma.MultiplyAdd(ai, b0, c40);
            c41 = Fma.MultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a3[s2]);
            c50 = Fma.MultiplyAdd(ai, b0, c50);
            c51 = Fma.MultiplyAdd(ai, b1, c51);

            a0 += aDepthStride;
            a3 += aDepthStride;
            b += bDepthStride;
        }

        StoreRow256(c, c00, c01, addToC);
        StoreRow256(c + ldc, c10, c11, addToC);
        StoreRow256(c + 2 * ldc, c20, c21, addToC);
        StoreRow256(c + 3 * ldc, c30, c31, addToC);
        StoreRow256(c + 4 * ldc, c40, c41, addToC);
        StoreRow256(c + 5 * ldc, c50, c51, addToC);
    }

    /// <summary>
    /// The top four rows of <see cref="Avx2Tile6x16"/>, with the same FMA order, for edge panels
    /// of at most 4 valid rows: 32 rows split into 6-row panels leave 2, which the full kernel
    /// would compute at the cost of 6.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Tile4x16(int depth, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, nint ldc, bool addToC)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;

        nint s1 = aRowStride, s2 = 2 * aRowStride, s3 = 3 * aRowStride;
        for (int p = 0; p < depth; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);

            Vector256<float> ai = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(ai, b0, c00);
            c01 = Fma.MultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[s1]);
            c10 = Fma.MultiplyAdd(ai, b0, c10);
            c11 = Fma.MultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[s2]);
            c20 = Fma.MultiplyAdd(ai, b0, c20);
            c21 = Fma.MultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[s3]);
            c30 = Fma.MultiplyAdd(ai, b0, c30);
            c31 = Fma.MultiplyAdd(ai, b1, c31);

            a += aDepthStride;
            b += bDepthStride;
        }

        StoreRow256(c, c00, c01, addToC);
        StoreRow256(c + ldc, c10, c11, addToC);
        StoreRow256(c + 2 * ldc, c20, c21, addToC);
        StoreRow256(c + 3 * ldc, c30, c31, addToC);
    }

    /// <summary>
    /// The top two rows of <see cref="Avx2Tile6x16"/>, with the same FMA order, for edge panels
    /// of at most 2 valid rows. Its 4 FMA chains are too few to hide the FMA latency, but on the
    /// first Zen cores (one 256-bit FMA per cycle, 5 cycles latency) a step still takes about 5
    /// cycles against 8 for <see cref="Avx2Tile4x16"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Tile2x16(int depth, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, nint ldc, bool addToC)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;

        for (int p = 0; p < depth; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = Vector256.Load(b + 8);

            Vector256<float> ai = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(ai, b0, c00);
            c01 = Fma.MultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[aRowStride]);
            c10 = Fma.MultiplyAdd(ai, b0, c10);
            c11 = Fma.MultiplyAdd(ai, b1, c11);

            a += aDepthStride;
            b += bDepthStride;
        }

        StoreRow256(c, c00, c01, addToC);
        StoreRow256(c + ldc, c10, c11, addToC);
    }

    /// <summary>
    /// The left half of <see cref="Avx2Tile6x16"/>, with the same FMA order, for edge panels of
    /// at most 8 valid columns.
    /// </summary>
    public static void Avx2Tile6x8(int depth, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, nint ldc, bool addToC) =>
        Avx2Tile6xVector<Vector256Ops, Vector256<float>>(depth, a, aRowStride, aDepthStride, b, bDepthStride, c, ldc, addToC);

    /// <summary>
    /// The left quarter of <see cref="Avx2Tile6x16"/>, with the same FMA order, for edge panels of
    /// at most 4 valid columns. AMD's first Zen cores split a 256-bit FMA into two 128-bit halves,
    /// so there this costs half of <see cref="Avx2Tile6x8"/>; elsewhere it costs the same.
    /// </summary>
    public static void Avx2Tile6x4(int depth, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, nint ldc, bool addToC) =>
        Avx2Tile6xVector<Vector128Ops, Vector128<float>>(depth, a, aRowStride, aDepthStride, b, bDepthStride, c, ldc, addToC);

    /// <summary>
    /// A 6-row tile one vector wide: the first <c>TOps.Count</c> columns of <see cref="Avx2Tile6x16"/>.
    /// Only called where FMA is supported, so <c>TOps.MultiplyAdd</c> fuses as the full kernel does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Tile6xVector<TOps, TVector>(int depth, float* a, nint aRowStride, nint aDepthStride,
        float* b, nint bDepthStride, float* c, nint ldc, bool addToC)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        TVector c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero, c4 = TOps.Zero, c5 = TOps.Zero;

        float* a0 = a;
        float* a3 = a + 3 * aRowStride;
        nint s1 = aRowStride, s2 = 2 * aRowStride;
        for (int p = 0; p < depth; p++)
        {
            TVector b0 = TOps.Load(b);
            c0 = TOps.MultiplyAdd(TOps.Create(a0[0]), b0, c0);
            c1 = TOps.MultiplyAdd(TOps.Create(a0[s1]), b0, c1);
            c2 = TOps.MultiplyAdd(TOps.Create(a0[s2]), b0, c2);
            c3 = TOps.MultiplyAdd(TOps.Create(a3[0]), b0, c3);
            c4 = TOps.MultiplyAdd(TOps.Create(a3[s1]), b0, c4);
            c5 = TOps.MultiplyAdd(TOps.Create(a3[s2]), b0, c5);
            a0 += aDepthStride;
            a3 += aDepthStride;
            b += bDepthStride;
        }

        StoreVector<TOps, TVector>(c, c0, addToC);
        StoreVector<TOps, TVector>(c + ldc, c1, addToC);
        StoreVector<TOps, TVector>(c + 2 * ldc, c2, addToC);
        StoreVector<TOps, TVector>(c + 3 * ldc, c3, addToC);
        StoreVector<TOps, TVector>(c + 4 * ldc, c4, addToC);
        StoreVector<TOps, TVector>(c + 5 * ldc, c5, addToC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreVector<TOps, TVector>(float* c, TVector sum, bool addToC)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        if (addToC)
            sum = TOps.Add(sum, TOps.Load(c));
        TOps.Store(sum, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow256(float* c, Vector256<float> sum0, Vector256<float> sum1, bool addToC)
    {
        if (addToC)
        {
            sum0 += Vector256.Load(c);
            sum1 += Vector256.Load(c + 8);
        }
        sum0.Store(c);
        sum1.Store(c + 8);
    }

    /// <summary>
    /// 4 x (2 * <see cref="Vector{T}.Count"/>) tile with <see cref="Vector{T}"/>, the readable
    /// reference for the shape of the kernels above.
    /// </summary>
    public static void PortableTile4x2V(int depth, float* a, float* b, float* c, nint ldc, bool addToC)
    {
        int width = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;

        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector.Load(b);
            var b1 = Vector.Load(b + width);

            var ai = new Vector<float>(a[0]);
            c00 = Vector.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector.FusedMultiplyAdd(ai, b1, c01);
            ai = new Vector<float>(a[1]);
            c10 = Vector.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector.FusedMultiplyAdd(ai, b1, c11);
            ai = new Vector<float>(a[2]);
            c20 = Vector.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector.FusedMultiplyAdd(ai, b1, c21);
            ai = new Vector<float>(a[3]);
            c30 = Vector.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector.FusedMultiplyAdd(ai, b1, c31);

            a += 4;
            b += 2 * width;
        }

        StoreRowPortable(c, c00, c01, addToC);
        StoreRowPortable(c + ldc, c10, c11, addToC);
        StoreRowPortable(c + 2 * ldc, c20, c21, addToC);
        StoreRowPortable(c + 3 * ldc, c30, c31, addToC);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowPortable(float* c, Vector<float> sum0, Vector<float> sum1, bool addToC)
    {
        int width = Vector<float>.Count;
        if (addToC)
        {
            sum0 += Vector.Load(c);
            sum1 += Vector.Load(c + width);
        }
        sum0.Store(c);
        sum1.Store(c + width);
    }
}
