using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DigitNet.Kernels;

/// <summary>
/// Paths of <see cref="Gemm"/> for m == 1, n == 1 and k == 1: matrix-vector products and outer
/// products. They read the operands where they lie, with no packing and no threads, because at
/// batch size 1 the whole product takes about as long as packing it would.
/// </summary>
/// <remarks>
/// The loops are written once over <see cref="IVectorOps{TVector}"/> and instantiated for the
/// widest vector that is accelerated and no wider than the data. A row whose length is not a
/// multiple of the vector width ends with one vector that overlaps the previous one, and a lane
/// mask keeps the overlapping lanes from being counted twice.
/// </remarks>
internal static unsafe class GemmSmall
{
    // Gathered copies of strided vectors, so the inner loops always read with unit stride.
    [ThreadStatic] private static AlignedBuffer? t_gatherX;
    [ThreadStatic] private static AlignedBuffer? t_gatherY;

    /// <summary>Computes C for an operand set with m == 1, n == 1 or k == 1 (and k &gt; 0).</summary>
    public static void Multiply(in GemmOperands op)
    {
        if (op.M == 1 && op.N == 1)
            MultiplyDot(op);
        else if (op.M == 1)
            MultiplyRowVector(op);
        else if (op.N == 1)
            MultiplyColumnVector(op);
        else
            MultiplyOuter(op);
    }

    /// <summary>Computes the single element of C as the dot product of op(A) row 0 and op(B) column 0.</summary>
    private static void MultiplyDot(in GemmOperands op)
    {
        float* x = Contiguous(op.A, op.TransposeA ? op.Lda : 1, op.K, ref t_gatherX);
        float* y = Contiguous(op.B, op.TransposeB ? 1 : op.Ldb, op.K, ref t_gatherY);
        DotRows(1, op.K, y, 0, x, op.C, 1, op.Accumulate);
    }

    /// <summary>Computes <c>C[1, n] = x[1, k] op(B)</c>, with x the single row of op(A).</summary>
    private static void MultiplyRowVector(in GemmOperands op)
    {
        nint xStride = op.TransposeA ? op.Lda : 1;
        if (op.TransposeB)
        {
            // B is [n, k]: each C element is the dot product of x with one row of B.
            float* x = Contiguous(op.A, xStride, op.K, ref t_gatherX);
            DotRows(op.N, op.K, op.B, op.Ldb, x, op.C, 1, op.Accumulate);
        }
        else
        {
            // B is [k, n]: the C row is a combination of the rows of B weighted by x.
            CombineRows(op.N, op.K, op.A, xStride, op.B, op.Ldb, op.C, op.Accumulate);
        }
    }

    /// <summary>Computes <c>C[m, 1] = op(A) y[k, 1]</c>, with y the single column of op(B).</summary>
    private static void MultiplyColumnVector(in GemmOperands op)
    {
        nint yStride = op.TransposeB ? 1 : op.Ldb;
        if (!op.TransposeA)
        {
            // A is [m, k]: each C element is the dot product of one row of A with y.
            float* y = Contiguous(op.B, yStride, op.K, ref t_gatherY);
            DotRows(op.M, op.K, op.A, op.Lda, y, op.C, op.Ldc, op.Accumulate);
            return;
        }

        // A is [k, m]: the C column is a combination of the rows of A weighted by y. The
        // combination needs a contiguous destination, so a strided C column goes through a copy.
        if (op.Ldc == 1)
        {
            CombineRows(op.M, op.K, op.B, yStride, op.A, op.Lda, op.C, op.Accumulate);
            return;
        }

        float* column = GemmBlocked.GetBuffer(ref t_gatherX, op.M);
        if (op.Accumulate)
        {
            for (int i = 0; i < op.M; i++)
                column[i] = op.C[i * op.Ldc];
        }
        CombineRows(op.M, op.K, op.B, yStride, op.A, op.Lda, column, op.Accumulate);
        for (int i = 0; i < op.M; i++)
            op.C[i * op.Ldc] = column[i];
    }

    /// <summary>Computes the outer product <c>C[m, n] = x[m, 1] y[1, n]</c>, so row i of C is x[i] times y.</summary>
    private static void MultiplyOuter(in GemmOperands op)
    {
        nint xStride = op.TransposeA ? 1 : op.Lda;
        float* y = Contiguous(op.B, op.TransposeB ? op.Ldb : 1, op.N, ref t_gatherY);
        int n = op.N;
        for (int i = 0; i < op.M; i++)
        {
            float xi = op.A[i * xStride];
            float* c = op.C + i * op.Ldc;
            if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
                ScaleRow<Vector512Ops, Vector512<float>>(n, xi, y, c, op.Accumulate);
            else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
                ScaleRow<Vector256Ops, Vector256<float>>(n, xi, y, c, op.Accumulate);
            else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
                ScaleRow<Vector128Ops, Vector128<float>>(n, xi, y, c, op.Accumulate);
            else
            {
                for (int j = 0; j < n; j++)
                    c[j] = op.Accumulate ? xi * y[j] + c[j] : xi * y[j];
            }
        }
    }

    /// <summary>
    /// Returns <paramref name="source"/> if its stride is 1, otherwise a gathered copy of its
    /// <paramref name="length"/> elements in the given thread buffer.
    /// </summary>
    private static float* Contiguous(float* source, nint stride, int length, ref AlignedBuffer? buffer)
    {
        if (stride == 1)
            return source;
        float* copy = GemmBlocked.GetBuffer(ref buffer, length);
        for (int p = 0; p < length; p++)
            copy[p] = source[p * stride];
        return copy;
    }

    /// <summary>
    /// Computes <c>y[i * yStride] = dot(rows[i], x)</c> (plus the old y when <paramref name="addToY"/>)
    /// for <paramref name="count"/> rows of <paramref name="length"/> values, row stride <paramref name="rowStride"/>.
    /// </summary>
    private static void DotRows(int count, int length, float* rows, nint rowStride, float* x, float* y, nint yStride, bool addToY)
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count)
            DotRows<Vector512Ops, Vector512<float>>(count, length, rows, rowStride, x, y, yStride, addToY);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count)
            DotRows<Vector256Ops, Vector256<float>>(count, length, rows, rowStride, x, y, yStride, addToY);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count)
            DotRows<Vector128Ops, Vector128<float>>(count, length, rows, rowStride, x, y, yStride, addToY);
        else
        {
            for (int i = 0; i < count; i++)
            {
                float* row = rows + i * rowStride;
                float sum = 0;
                for (int p = 0; p < length; p++)
                    sum = MathF.FusedMultiplyAdd(row[p], x[p], sum);
                y[i * yStride] = addToY ? sum + y[i * yStride] : sum;
            }
        }
    }

    private static void DotRows<TOps, TVector>(int count, int length, float* rows, nint rowStride, float* x, float* y, nint yStride, bool addToY)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        int width = TOps.Count;
        int fullLength = length - length % width;

        // The last (length % width) elements are read as one vector that ends at the row end.
        // Its lanes that overlap the previous vector are zeroed by the mask after multiplying,
        // so an infinite value there is not turned into NaN by 0 * inf.
        nint tailStart = length - width;
        TVector tailMask = TailMask<TOps, TVector>(length % width);
        TVector xTail = TOps.Load(x + tailStart);
        bool hasTail = fullLength != length;

        // Four rows at a time give four independent FMA chains, enough to hide FMA latency.
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            float* row0 = rows + i * rowStride;
            float* row1 = row0 + rowStride;
            float* row2 = row1 + rowStride;
            float* row3 = row2 + rowStride;
            TVector sum0 = TOps.Zero, sum1 = TOps.Zero, sum2 = TOps.Zero, sum3 = TOps.Zero;
            for (int p = 0; p < fullLength; p += width)
            {
                TVector xp = TOps.Load(x + p);
                sum0 = TOps.MultiplyAdd(TOps.Load(row0 + p), xp, sum0);
                sum1 = TOps.MultiplyAdd(TOps.Load(row1 + p), xp, sum1);
                sum2 = TOps.MultiplyAdd(TOps.Load(row2 + p), xp, sum2);
                sum3 = TOps.MultiplyAdd(TOps.Load(row3 + p), xp, sum3);
            }
            if (hasTail)
            {
                sum0 = TOps.Add(sum0, TOps.And(TOps.Multiply(TOps.Load(row0 + tailStart), xTail), tailMask));
                sum1 = TOps.Add(sum1, TOps.And(TOps.Multiply(TOps.Load(row1 + tailStart), xTail), tailMask));
                sum2 = TOps.Add(sum2, TOps.And(TOps.Multiply(TOps.Load(row2 + tailStart), xTail), tailMask));
                sum3 = TOps.Add(sum3, TOps.And(TOps.Multiply(TOps.Load(row3 + tailStart), xTail), tailMask));
            }
            StoreDot(y + i * yStride, TOps.Sum(sum0), addToY);
            StoreDot(y + (i + 1) * yStride, TOps.Sum(sum1), addToY);
            StoreDot(y + (i + 2) * yStride, TOps.Sum(sum2), addToY);
            StoreDot(y + (i + 3) * yStride, TOps.Sum(sum3), addToY);
        }

        for (; i < count; i++)
        {
            float* row = rows + i * rowStride;
            TVector sum = TOps.Zero;
            for (int p = 0; p < fullLength; p += width)
                sum = TOps.MultiplyAdd(TOps.Load(row + p), TOps.Load(x + p), sum);
            if (hasTail)
                sum = TOps.Add(sum, TOps.And(TOps.Multiply(TOps.Load(row + tailStart), xTail), tailMask));
            StoreDot(y + i * yStride, TOps.Sum(sum), addToY);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreDot(float* y, float sum, bool addToY) => *y = addToY ? sum + *y : sum;

    /// <summary>
    /// Computes <c>y[0..length) = sum over p of x[p * xStride] * rows[p]</c> (plus the old y when
    /// <paramref name="addToY"/>) for <paramref name="count"/> rows of stride <paramref name="rowStride"/>.
    /// </summary>
    private static void CombineRows(int length, int count, float* x, nint xStride, float* rows, nint rowStride, float* y, bool addToY)
    {
        if (Vector512.IsHardwareAccelerated && length >= Vector512<float>.Count)
            CombineRows<Vector512Ops, Vector512<float>>(length, count, x, xStride, rows, rowStride, y, addToY);
        else if (Vector256.IsHardwareAccelerated && length >= Vector256<float>.Count)
            CombineRows<Vector256Ops, Vector256<float>>(length, count, x, xStride, rows, rowStride, y, addToY);
        else if (Vector128.IsHardwareAccelerated && length >= Vector128<float>.Count)
            CombineRows<Vector128Ops, Vector128<float>>(length, count, x, xStride, rows, rowStride, y, addToY);
        else
        {
            for (int j = 0; j < length; j++)
            {
                float sum = 0;
                for (int p = 0; p < count; p++)
                    sum = MathF.FusedMultiplyAdd(x[p * xStride], rows[p * rowStride + j], sum);
                y[j] = addToY ? sum + y[j] : sum;
            }
        }
    }

    private static void CombineRows<TOps, TVector>(int length, int count, float* x, nint xStride, float* rows, nint rowStride, float* y, bool addToY)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        int width = TOps.Count;

        // Four vectors of y at a time give four independent FMA chains per weight x[p].
        int j = 0;
        for (; j + 4 * width <= length; j += 4 * width)
        {
            TVector sum0 = TOps.Zero, sum1 = TOps.Zero, sum2 = TOps.Zero, sum3 = TOps.Zero;
            float* row = rows + j;
            for (int p = 0; p < count; p++, row += rowStride)
            {
                TVector xp = TOps.Create(x[p * xStride]);
                sum0 = TOps.MultiplyAdd(xp, TOps.Load(row), sum0);
                sum1 = TOps.MultiplyAdd(xp, TOps.Load(row + width), sum1);
                sum2 = TOps.MultiplyAdd(xp, TOps.Load(row + 2 * width), sum2);
                sum3 = TOps.MultiplyAdd(xp, TOps.Load(row + 3 * width), sum3);
            }
            StoreSum<TOps, TVector>(y + j, sum0, addToY);
            StoreSum<TOps, TVector>(y + j + width, sum1, addToY);
            StoreSum<TOps, TVector>(y + j + 2 * width, sum2, addToY);
            StoreSum<TOps, TVector>(y + j + 3 * width, sum3, addToY);
        }

        for (; j + width <= length; j += width)
            StoreSum<TOps, TVector>(y + j, CombineColumns<TOps, TVector>(count, x, xStride, rows + j, rowStride), addToY);

        if (j < length)
        {
            // One vector that ends at the row end. Its leading lanes overlap columns already
            // written, so the mask keeps their stored values.
            nint start = length - width;
            TVector sum = CombineColumns<TOps, TVector>(count, x, xStride, rows + start, rowStride);
            TVector old = TOps.Load(y + start);
            TVector value = addToY ? TOps.Add(sum, old) : sum;
            TOps.Store(TOps.Select(TailMask<TOps, TVector>(length - j), value, old), y + start);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector CombineColumns<TOps, TVector>(int count, float* x, nint xStride, float* row, nint rowStride)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        TVector sum = TOps.Zero;
        for (int p = 0; p < count; p++, row += rowStride)
            sum = TOps.MultiplyAdd(TOps.Create(x[p * xStride]), TOps.Load(row), sum);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSum<TOps, TVector>(float* y, TVector sum, bool addToY)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        if (addToY)
            sum = TOps.Add(sum, TOps.Load(y));
        TOps.Store(sum, y);
    }

    /// <summary>Computes <c>c[0..length) = scale * y</c>, plus the old c when <paramref name="addToC"/>.</summary>
    private static void ScaleRow<TOps, TVector>(int length, float scale, float* y, float* c, bool addToC)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        int width = TOps.Count;
        TVector factor = TOps.Create(scale);
        int j = 0;
        for (; j + width <= length; j += width)
            StoreSum<TOps, TVector>(c + j, TOps.Multiply(factor, TOps.Load(y + j)), addToC);

        if (j < length)
        {
            nint start = length - width;
            TVector old = TOps.Load(c + start);
            TVector product = TOps.Multiply(factor, TOps.Load(y + start));
            TVector value = addToC ? TOps.Add(product, old) : product;
            TOps.Store(TOps.Select(TailMask<TOps, TVector>(length - j), value, old), c + start);
        }
    }

    /// <summary>
    /// Returns a mask whose last <paramref name="count"/> lanes have all bits set and whose other
    /// lanes are zero; <paramref name="count"/> is at most the lane count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector TailMask<TOps, TVector>(int count)
        where TOps : struct, IVectorOps<TVector>
        where TVector : unmanaged
    {
        // 16 zero words then 16 all-ones words: a window of width lanes starting at
        // 16 - width + count ends with exactly count all-ones lanes.
        ref float bits = ref MemoryMarshal.GetArrayDataReference(TailMaskBits);
        nuint start = (nuint)(16 - TOps.Count + count);
        return TOps.LoadUnsafe(ref bits, start);
    }

    // An array rather than a ReadOnlySpan<int> property over constant data: Debug builds
    // allocate on every read of such a property, and the tests check that calls allocate nothing.
    private static readonly float[] TailMaskBits = CreateTailMaskBits();

    private static float[] CreateTailMaskBits()
    {
        float[] bits = new float[32];
        bits.AsSpan(16).Fill(BitConverter.Int32BitsToSingle(-1));
        return bits;
    }
}

/// <summary>
/// The vector operations that <see cref="GemmSmall"/> needs, as static members of a struct so that
/// the JIT compiles a separate, fully inlined copy of each generic loop for every vector width.
/// </summary>
internal unsafe interface IVectorOps<TVector>
    where TVector : unmanaged
{
    static abstract int Count { get; }
    static abstract TVector Zero { get; }
    static abstract TVector Create(float value);
    static abstract TVector Load(float* source);
    static abstract TVector LoadUnsafe(ref float source, nuint offset);
    static abstract void Store(TVector value, float* destination);
    static abstract TVector Add(TVector left, TVector right);
    static abstract TVector Multiply(TVector left, TVector right);

    /// <summary>Returns <c>left * right + addend</c>, fused where the hardware has FMA.</summary>
    static abstract TVector MultiplyAdd(TVector left, TVector right, TVector addend);
    static abstract TVector And(TVector left, TVector right);
    static abstract TVector Select(TVector mask, TVector whereSet, TVector whereClear);
    static abstract float Sum(TVector value);
}

internal readonly unsafe struct Vector512Ops : IVectorOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    public static Vector512<float> Create(float value) => Vector512.Create(value);
    public static Vector512<float> Load(float* source) => Vector512.Load(source);
    public static Vector512<float> LoadUnsafe(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);
    public static void Store(Vector512<float> value, float* destination) => value.Store(destination);
    public static Vector512<float> Add(Vector512<float> left, Vector512<float> right) => left + right;
    public static Vector512<float> Multiply(Vector512<float> left, Vector512<float> right) => left * right;
    public static Vector512<float> MultiplyAdd(Vector512<float> left, Vector512<float> right, Vector512<float> addend) =>
        Vector512.MultiplyAddEstimate(left, right, addend);
    public static Vector512<float> And(Vector512<float> left, Vector512<float> right) => left & right;
    public static Vector512<float> Select(Vector512<float> mask, Vector512<float> whereSet, Vector512<float> whereClear) =>
        Vector512.ConditionalSelect(mask, whereSet, whereClear);
    public static float Sum(Vector512<float> value) => Vector512.Sum(value);
}

internal readonly unsafe struct Vector256Ops : IVectorOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    public static Vector256<float> Create(float value) => Vector256.Create(value);
    public static Vector256<float> Load(float* source) => Vector256.Load(source);
    public static Vector256<float> LoadUnsafe(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);
    public static void Store(Vector256<float> value, float* destination) => value.Store(destination);
    public static Vector256<float> Add(Vector256<float> left, Vector256<float> right) => left + right;
    public static Vector256<float> Multiply(Vector256<float> left, Vector256<float> right) => left * right;
    public static Vector256<float> MultiplyAdd(Vector256<float> left, Vector256<float> right, Vector256<float> addend) =>
        Vector256.MultiplyAddEstimate(left, right, addend);
    public static Vector256<float> And(Vector256<float> left, Vector256<float> right) => left & right;
    public static Vector256<float> Select(Vector256<float> mask, Vector256<float> whereSet, Vector256<float> whereClear) =>
        Vector256.ConditionalSelect(mask, whereSet, whereClear);
    public static float Sum(Vector256<float> value) => Vector256.Sum(value);
}

internal readonly unsafe struct Vector128Ops : IVectorOps<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    public static Vector128<float> Create(float value) => Vector128.Create(value);
    public static Vector128<float> Load(float* source) => Vector128.Load(source);
    public static Vector128<float> LoadUnsafe(ref float source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);
    public static void Store(Vector128<float> value, float* destination) => value.Store(destination);
    public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;
    public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;
    public static Vector128<float> MultiplyAdd(Vector128<float> left, Vector128<float> right, Vector128<float> addend) =>
        Vector128.MultiplyAddEstimate(left, right, addend);
    public static Vector128<float> And(Vector128<float> left, Vector128<float> right) => left & right;
    public static Vector128<float> Select(Vector128<float> mask, Vector128<float> whereSet, Vector128<float> whereClear) =>
        Vector128.ConditionalSelect(mask, whereSet, whereClear);
    public static float Sum(Vector128<float> value) => Vector128.Sum(value);
}
