using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DigitNet.Kernels;

/// <summary>
/// Copies blocks of op(A) and op(B) into the panel layouts that the micro-kernels read with
/// unit stride. Packing turns all four transpose cases into one kernel, makes every kernel load
/// contiguous and aligned, and zero-pads edge panels so the kernel never needs a bounds check.
/// </summary>
/// <remarks>
/// Packed A: panels of <c>mr</c> rows; within a panel, for each k, the <c>mr</c> values of that column.
/// Packed B: panels of <c>nr</c> columns; within a panel, for each k, the <c>nr</c> values of that row.
/// A panel of depth <c>kc</c> starting at row (column) <c>i</c> of the block starts at element <c>i * kc</c>.
/// </remarks>
internal static unsafe class GemmPacking
{
    /// <summary>Packs rows [<paramref name="row0"/>, +<paramref name="rows"/>) and k range [<paramref name="k0"/>, +<paramref name="depth"/>) of op(A).</summary>
    public static void PackA(in GemmOperands op, int row0, int rows, int k0, int depth, int mr, float* packed)
    {
        for (int i = 0; i < rows; i += mr)
        {
            int panelRows = Math.Min(mr, rows - i);
            float* panel = packed + (nint)i * depth;
            if (op.TransposeA)
            {
                // A is [k, m]: the mr values for one k are contiguous.
                float* source = op.A + (nint)k0 * op.Lda + row0 + i;
                CopyRows(source, op.Lda, depth, panelRows, panel, mr);
            }
            else
            {
                // A is [m, k]: the panel is a transpose of an mr x depth block.
                float* source = op.A + (nint)(row0 + i) * op.Lda + k0;
                TransposeBlock(source, op.Lda, panelRows, depth, panel, mr);
            }
        }
    }

    /// <summary>Packs columns [<paramref name="column0"/>, +<paramref name="columns"/>) and k range [<paramref name="k0"/>, +<paramref name="depth"/>) of op(B).</summary>
    public static void PackB(in GemmOperands op, int column0, int columns, int k0, int depth, int nr, float* packed)
    {
        for (int j = 0; j < columns; j += nr)
        {
            int panelColumns = Math.Min(nr, columns - j);
            float* panel = packed + (nint)j * depth;
            if (op.TransposeB)
            {
                // B is [n, k]: the panel is a transpose of an nr x depth block.
                float* source = op.B + (nint)(column0 + j) * op.Ldb + k0;
                TransposeBlock(source, op.Ldb, panelColumns, depth, panel, nr);
            }
            else
            {
                // B is [k, n]: the nr values for one k are contiguous.
                float* source = op.B + (nint)k0 * op.Ldb + column0 + j;
                CopyRows(source, op.Ldb, depth, panelColumns, panel, nr);
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="count"/> rows of <paramref name="length"/> values into rows of
    /// <paramref name="width"/> values, zero-filling the rest of each destination row.
    /// </summary>
    private static void CopyRows(float* source, nint stride, int count, int length, float* destination, int width)
    {
        int vectorLength = Vector256.IsHardwareAccelerated ? length & ~7 : 0;
        for (int row = 0; row < count; row++, source += stride, destination += width)
        {
            int x = 0;
            for (; x < vectorLength; x += 8)
                Vector256.Load(source + x).Store(destination + x);
            for (; x < length; x++)
                destination[x] = source[x];
            ZeroFill(destination + x, width - x);
        }
    }

    /// <summary>
    /// Writes the transpose of a <paramref name="rows"/> x <paramref name="depth"/> block (row stride
    /// <paramref name="stride"/>) as <paramref name="depth"/> rows of <paramref name="width"/> values,
    /// zero-filling columns <paramref name="rows"/> to <paramref name="width"/>.
    /// </summary>
    private static void TransposeBlock(float* source, nint stride, int rows, int depth, float* destination, int width)
    {
        // Whole groups of 8 source rows and 8 steps of k go through 8 x 8 register transposes,
        // which read each source row 32 bytes at a time instead of one element per load.
        int groupedRows = Avx.IsSupported ? rows & ~7 : 0;
        int groupedDepth = groupedRows > 0 ? depth & ~7 : 0;
        for (int p = 0; p < groupedDepth; p += 8)
        {
            for (int group = 0; group < groupedRows; group += 8)
                Transpose8x8(source + group * stride + p, stride, destination + (nint)p * width + group, width);
        }

        // Rows left over in the grouped steps, then all rows of the steps left over, one element
        // at a time. Where the groups cover the panel, the first loop would cost as much as they do.
        if (groupedRows < width)
        {
            for (int p = 0; p < groupedDepth; p++)
                CopyColumn(source + p, stride, groupedRows, rows, destination + (nint)p * width, width);
        }
        for (int p = groupedDepth; p < depth; p++)
            CopyColumn(source + p, stride, 0, rows, destination + (nint)p * width, width);
    }

    /// <summary>
    /// Copies elements [<paramref name="from"/>, <paramref name="rows"/>) of a column (stride
    /// <paramref name="stride"/>) into the same places of a row of <paramref name="width"/>
    /// values, and zero-fills the rest of the row.
    /// </summary>
    private static void CopyColumn(float* column, nint stride, int from, int rows, float* row, int width)
    {
        int x = from;
        for (; x < rows; x++)
            row[x] = column[x * stride];
        ZeroFill(row + x, width - x);
    }

    /// <summary>
    /// Sets <paramref name="count"/> floats to zero. The padding of an edge panel (28 of 32
    /// values in each row of a 100-column product) is written for every step of k, so it gets
    /// vector stores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroFill(float* start, int count)
    {
        int x = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; x + 8 <= count; x += 8)
                Vector256<float>.Zero.Store(start + x);
        }
        for (; x < count; x++)
            start[x] = 0;
    }

    /// <summary>
    /// Transposes an 8 x 8 block. Each register is loaded as two 4-value halves, of rows r and
    /// r + 4. The in-lane unpacks and shuffles then leave every column whole, so no cross-lane
    /// permute is needed. AMD's first Zen cores split 256-bit operations in two, and a cross-lane
    /// permute costs them several micro-ops (an estimate, not measured here).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* source, nint sourceStride, float* destination, nint destinationStride)
    {
        float* top = source;
        float* bottom = source + 4 * sourceStride;

        // Columns 0-3: r0 = row 0 | row 4, r1 = row 1 | row 5, and so on, each 4 values wide.
        Vector256<float> r0 = Avx.InsertVector128(Vector128.Load(top).ToVector256Unsafe(), Vector128.Load(bottom), 1);
        Vector256<float> r1 = Avx.InsertVector128(Vector128.Load(top + sourceStride).ToVector256Unsafe(), Vector128.Load(bottom + sourceStride), 1);
        Vector256<float> r2 = Avx.InsertVector128(Vector128.Load(top + 2 * sourceStride).ToVector256Unsafe(), Vector128.Load(bottom + 2 * sourceStride), 1);
        Vector256<float> r3 = Avx.InsertVector128(Vector128.Load(top + 3 * sourceStride).ToVector256Unsafe(), Vector128.Load(bottom + 3 * sourceStride), 1);
        StoreColumns(r0, r1, r2, r3, destination, destinationStride);

        // Columns 4-7, the same way.
        r0 = Avx.InsertVector128(Vector128.Load(top + 4).ToVector256Unsafe(), Vector128.Load(bottom + 4), 1);
        r1 = Avx.InsertVector128(Vector128.Load(top + sourceStride + 4).ToVector256Unsafe(), Vector128.Load(bottom + sourceStride + 4), 1);
        r2 = Avx.InsertVector128(Vector128.Load(top + 2 * sourceStride + 4).ToVector256Unsafe(), Vector128.Load(bottom + 2 * sourceStride + 4), 1);
        r3 = Avx.InsertVector128(Vector128.Load(top + 3 * sourceStride + 4).ToVector256Unsafe(), Vector128.Load(bottom + 3 * sourceStride + 4), 1);
        StoreColumns(r0, r1, r2, r3, destination + 4 * destinationStride, destinationStride);
    }

    /// <summary>
    /// Stores the four columns of rows that hold rows r (low lane) and r + 4 (high lane) of four
    /// values each, as four rows of 8 values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumns(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        float* destination, nint destinationStride)
    {
        // Interleave pairs of rows: t0 = r0[0] r1[0] r0[1] r1[1] in each lane, and so on.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1);
        Vector256<float> t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3);
        Vector256<float> t3 = Avx.UnpackHigh(r2, r3);

        // Gather the four rows of each column within each lane: the low lane has rows 0-3 and
        // the high lane rows 4-7, so each result is a whole column.
        Avx.Store(destination, Avx.Shuffle(t0, t2, 0x44));
        Avx.Store(destination + destinationStride, Avx.Shuffle(t0, t2, 0xEE));
        Avx.Store(destination + 2 * destinationStride, Avx.Shuffle(t1, t3, 0x44));
        Avx.Store(destination + 3 * destinationStride, Avx.Shuffle(t1, t3, 0xEE));
    }
}
