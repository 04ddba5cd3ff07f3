using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DigitNet.Kernels;

/// <summary>
/// The cache-blocked path of <see cref="Gemm"/>: the BLIS-style five loops around a micro-kernel,
/// with the roles of A and B swapped because C is row-major and the kernels vectorise along its rows.
/// </summary>
/// <remarks>
/// <para>Loops, outermost first: k in blocks of at most <see cref="MaxBlockDepth"/>; rows of C in
/// blocks of at most <see cref="MaxBlockRows"/> (A block packed); columns in blocks of at most
/// <see cref="MaxBlockColumns"/> (B block packed); A panels; B panels; micro-kernel.</para>
/// <para>An A panel (8 x 256 floats = 8 KB for AVX-512) stays in L1 while the kernel streams the
/// B panels of the packed B block (256 x 512 floats = 512 KB) from L2.</para>
/// </remarks>
[SkipLocalsInit]
internal static unsafe class GemmBlocked
{
    private const int MaxBlockDepth = 256;
    private const int MaxBlockRows = 1024;
    private const int MaxBlockColumns = 512;

    // Largest product, in multiply-adds, whose operands are read in place instead of packed.
    private const long MaxDirectProduct = 1L << 23;

    // Packing buffers, one pair per thread, pinned (so their addresses are stable) and grown on demand.
    [ThreadStatic] private static AlignedBuffer? t_packedA;
    [ThreadStatic] private static AlignedBuffer? t_packedB;

    /// <summary>
    /// Returns the depth of every k block but the last. It depends on k alone, never on the thread
    /// count or the partition, so each C element sums its products in the same order in every run.
    /// </summary>
    public static int BlockDepth(int k)
    {
        int blocks = (k + MaxBlockDepth - 1) / MaxBlockDepth;
        int depth = (k + blocks - 1) / blocks;

        // A multiple of 8 lets the packing transposes cover every block but the last in full.
        return (depth + 7) & ~7;
    }

    /// <summary>Computes rows [<paramref name="rowBegin"/>, <paramref name="rowEnd"/>) x columns [<paramref name="columnBegin"/>, <paramref name="columnEnd"/>) of C.</summary>
    public static void Multiply(in GemmOperands op, GemmKernel kernel, int rowBegin, int rowEnd, int columnBegin, int columnEnd)
    {
        int mr = kernel.Rows;
        int nr = kernel.Columns;
        int maxDepth = BlockDepth(op.K);

        // Small products read whole panels of A, and of B when it is not transposed, in place:
        // there, packing costs a large share of the time. Only edge panels are packed, with zeros.
        // B rows a multiple of 4 KiB apart all fall into the same few L1 sets, so such a B is
        // packed: for 16x2048x9 (a convolution with 9 weights per filter) in place ran 20% slower.
        bool directA = kernel.Kind != GemmKernelKind.Portable && (long)op.M * op.N * op.K <= MaxDirectProduct;
        bool directB = directA && !op.TransposeB && op.Ldb % 1024 != 0;

        // With both operands read in place, whole tiles only and one k block, there is nothing to
        // pack and no edge tile, so the buffers are not looked up.
        int rowCount = rowEnd - rowBegin, columnCount = columnEnd - columnBegin;
        if (directB && rowCount % mr == 0 && columnCount % nr == 0 && op.K <= MaxBlockDepth && !op.TransposeC)
        {
            var b = InPlaceB(op, 0, columnBegin, nr);
            for (int row = rowBegin; row < rowEnd; row += mr)
                FullTiles(kernel, op.K, InPlaceA(op, row, 0), b, columnCount / nr, op.C + row * op.Ldc + columnBegin, op.Ldc, op.Accumulate);
            return;
        }

        // Column blocks exist to keep a packed B block in L2. A B read in place needs none, and
        // each block boundary costs time: 16x2048x9 in blocks of 512 columns ran 1.5% slower than
        // in one block.
        int maxRows = Math.Min(MaxBlockRows / mr * mr, RoundUp(rowCount, mr));
        int maxColumns = RoundUp(columnCount, nr);
        if (!directB)
            maxColumns = Math.Min(MaxBlockColumns / nr * nr, maxColumns);
        float* packedA = GetBuffer(ref t_packedA, maxRows * maxDepth);
        float* packedB = GetBuffer(ref t_packedB, maxColumns * maxDepth);

        // Edge tiles are computed here in full and then merged into the valid part of C.
        float* edgeTile = stackalloc float[mr * nr];

        for (int k0 = 0; k0 < op.K; k0 += maxDepth)
        {
            int depth = Math.Min(maxDepth, op.K - k0);
            bool addToC = op.Accumulate || k0 > 0;

            for (int i0 = rowBegin; i0 < rowEnd; i0 += maxRows)
            {
                int rows = Math.Min(maxRows, rowEnd - i0);
                int packedRows = directA ? rows / mr * mr : 0;
                GemmPacking.PackA(op, i0 + packedRows, rows - packedRows, k0, depth, mr, packedA + (nint)packedRows * depth);

                for (int j0 = columnBegin; j0 < columnEnd; j0 += maxColumns)
                {
                    int columns = Math.Min(maxColumns, columnEnd - j0);
                    int packedColumns = directB ? columns / nr * nr : 0;
                    GemmPacking.PackB(op, j0 + packedColumns, columns - packedColumns, k0, depth, nr, packedB + (nint)packedColumns * depth);
                    var block = new Block(packedA, rows, packedB, columns, depth, i0, j0, k0, directA, directB);
                    MultiplyBlock(op, kernel, block, addToC, edgeTile);
                }
            }
        }
    }

    private static void MultiplyBlock(in GemmOperands op, GemmKernel kernel, in Block block, bool addToC, float* edgeTile)
    {
        int mr = kernel.Rows;
        int nr = kernel.Columns;
        int depth = block.Depth;
        for (int i = 0; i < block.Rows; i += mr)
        {
            int tileRows = Math.Min(mr, block.Rows - i);
            var a = block.DirectA && tileRows == mr
                ? InPlaceA(op, block.Row0 + i, block.K0)
                : new Panel(block.PackedA + (nint)i * depth, 1, mr);

            // Full tiles go straight to C, and the edge tiles of the row panel follow.
            int fullColumns = tileRows == mr && !op.TransposeC ? block.Columns / nr * nr : 0;
            float* cRow = op.C + (nint)(block.Row0 + i) * op.Ldc + block.Column0;
            if (fullColumns > 0)
            {
                var b = block.DirectB
                    ? InPlaceB(op, block.K0, block.Column0, nr)
                    : new Panel(block.PackedB, (nint)nr * depth, nr);
                FullTiles(kernel, depth, a, b, fullColumns / nr, cRow, op.Ldc, addToC);
            }

            for (int j = fullColumns; j < block.Columns; j += nr)
            {
                int tileColumns = Math.Min(nr, block.Columns - j);
                var b = block.DirectB && tileColumns == nr
                    ? InPlaceB(op, block.K0, block.Column0 + j, 0)
                    : new Panel(block.PackedB + (nint)j * depth, 0, nr);

                ComputeEdgeTile(kernel, block.DirectA, depth, a, b, tileRows, tileColumns, edgeTile);

                if (op.TransposeC)
                {
                    float* cTransposed = op.C + (nint)(block.Column0 + j) * op.Ldc + block.Row0 + i;
                    MergeEdgeTile(edgeTile, nr, cTransposed, 1, op.Ldc, tileRows, tileColumns, addToC);
                }
                else
                {
                    MergeEdgeTile(edgeTile, nr, cRow + j, op.Ldc, 1, tileRows, tileColumns, addToC);
                }
            }
        }
    }

    /// <summary>Returns the panel of the A rows from <paramref name="row"/> on, read in place from step <paramref name="k0"/>.</summary>
    private static Panel InPlaceA(in GemmOperands op, int row, int k0) => op.TransposeA
        ? new Panel(op.A + k0 * op.Lda + row, 1, op.Lda)
        : new Panel(op.A + row * op.Lda + k0, op.Lda, 1);

    /// <summary>
    /// Returns the B panel of the columns from <paramref name="column"/> on, read in place from
    /// step <paramref name="k0"/>, with the next panel <paramref name="panelStep"/> floats further.
    /// </summary>
    private static Panel InPlaceB(in GemmOperands op, int k0, int column, nint panelStep) =>
        new(op.B + k0 * op.Ldb + column, panelStep, op.Ldb);

    /// <summary>
    /// Computes <paramref name="count"/> full tiles side by side: A panel <paramref name="a"/> times
    /// B panels that start <c>b.RowStride</c> floats apart, into C from <paramref name="c"/> on.
    /// </summary>
    /// <remarks>
    /// A read in place with unit depth stride gets loops of its own, where the constant stride lets
    /// the JIT step the A pointers by a constant, and a constant addToC removes a branch per row
    /// of each tile: 16x2048x9 (k = 9) ran 1.5% and 1% faster for these.
    /// </remarks>
    private static void FullTiles(GemmKernel kernel, int depth, in Panel a, in Panel b, int count,
        float* c, nint ldc, bool addToC)
    {
        int nr = kernel.Columns;
        float* bPanel = b.Start;
        if (a.DepthStride == kernel.Rows && b.DepthStride == nr)
        {
            for (int t = 0; t < count; t++, bPanel += b.RowStride, c += nr)
                kernel.Invoke(depth, a.Start, bPanel, c, ldc, addToC);
        }
        else if (kernel.Kind == GemmKernelKind.Avx512 && a.DepthStride == 1 && !addToC)
        {
            for (int t = 0; t < count; t++, bPanel += b.RowStride, c += nr)
                GemmMicroKernels.Avx512Tile8x32(depth, a.Start, a.RowStride, 1, bPanel, b.DepthStride, c, ldc, addToC: false);
        }
        else if (kernel.Kind == GemmKernelKind.Avx512 && a.DepthStride == 1)
        {
            for (int t = 0; t < count; t++, bPanel += b.RowStride, c += nr)
                GemmMicroKernels.Avx512Tile8x32(depth, a.Start, a.RowStride, 1, bPanel, b.DepthStride, c, ldc, addToC: true);
        }
        else if (kernel.Kind == GemmKernelKind.Avx512)
        {
            for (int t = 0; t < count; t++, bPanel += b.RowStride, c += nr)
                GemmMicroKernels.Avx512Tile8x32(depth, a.Start, a.RowStride, a.DepthStride, bPanel, b.DepthStride, c, ldc, addToC);
        }
        else
        {
            for (int t = 0; t < count; t++, bPanel += b.RowStride, c += nr)
                GemmMicroKernels.Avx2Tile6x16(depth, a.Start, a.RowStride, a.DepthStride, bPanel, b.DepthStride, c, ldc, addToC);
        }
    }

    /// <summary>
    /// Computes an edge tile into <paramref name="tile"/> (row stride: the kernel's columns), with
    /// a narrower kernel where one covers the valid part: each does the FMAs of the full kernel
    /// for its rows and columns, in the same order, at a fraction of the cost.
    /// </summary>
    private static void ComputeEdgeTile(GemmKernel kernel, bool directA, int depth, in Panel a, in Panel b,
        int tileRows, int tileColumns, float* tile)
    {
        int nr = kernel.Columns;
        if (kernel.Kind == GemmKernelKind.Avx512 && directA && tileColumns <= nr / 2)
            GemmMicroKernels.Avx512Tile8x16(depth, a.Start, a.RowStride, a.DepthStride, b.Start, b.DepthStride, tile, nr, addToC: false);
        else if (kernel.Kind == GemmKernelKind.Avx2 && tileRows <= 2)
            GemmMicroKernels.Avx2Tile2x16(depth, a.Start, a.RowStride, a.DepthStride, b.Start, b.DepthStride, tile, nr, addToC: false);
        else if (kernel.Kind == GemmKernelKind.Avx2 && tileRows <= 4)
            GemmMicroKernels.Avx2Tile4x16(depth, a.Start, a.RowStride, a.DepthStride, b.Start, b.DepthStride, tile, nr, addToC: false);
        else if (kernel.Kind == GemmKernelKind.Avx2 && tileColumns <= nr / 4)
            GemmMicroKernels.Avx2Tile6x4(depth, a.Start, a.RowStride, a.DepthStride, b.Start, b.DepthStride, tile, nr, addToC: false);
        else if (kernel.Kind == GemmKernelKind.Avx2 && tileColumns <= nr / 2)
            GemmMicroKernels.Avx2Tile6x8(depth, a.Start, a.RowStride, a.DepthStride, b.Start, b.DepthStride, tile, nr, addToC: false);
        else
            Invoke(kernel, depth, a, b, tile, nr, addToC: false);
    }

    /// <summary>Runs the kernel on two packed panels, and the AVX-512 or AVX2 kernel with the panels' strides otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Invoke(GemmKernel kernel, int depth, in Panel a, in Panel b, float* c, nint ldc, bool addToC)
    {
        if (a.DepthStride == kernel.Rows && b.DepthStride == kernel.Columns)
            kernel.Invoke(depth, a.Start, b.Start, c, ldc, addToC);
        else if (kernel.Kind == GemmKernelKind.Avx512)
            GemmMicroKernels.Avx512Tile8x32(depth, a.Start, a.RowStride, a.DepthStride, b.Start, b.DepthStride, c, ldc, addToC);
        else
            GemmMicroKernels.Avx2Tile6x16(depth, a.Start, a.RowStride, a.DepthStride, b.Start, b.DepthStride, c, ldc, addToC);
    }

    /// <summary>
    /// A panel of A or B: element (r, p) at <c>Start[r * RowStride + p * DepthStride]</c>. B panels
    /// are read as rows, so for them RowStride is the distance to the next panel, where one is used.
    /// </summary>
    private readonly struct Panel(float* start, nint rowStride, nint depthStride)
    {
        public readonly float* Start = start;
        public readonly nint RowStride = rowStride;
        public readonly nint DepthStride = depthStride;
    }

    /// <summary>One k block of rows x columns of C and its packed operands.</summary>
    private readonly struct Block(float* packedA, int rows, float* packedB, int columns, int depth,
        int row0, int column0, int k0, bool directA, bool directB)
    {
        public readonly float* PackedA = packedA;
        public readonly int Rows = rows;
        public readonly float* PackedB = packedB;
        public readonly int Columns = columns;
        public readonly int Depth = depth;
        public readonly int Row0 = row0;
        public readonly int Column0 = column0;
        public readonly int K0 = k0;
        public readonly bool DirectA = directA;
        public readonly bool DirectB = directB;
    }

    /// <summary>
    /// Writes (or adds) the valid part of a tile to C, as the kernel would for a full tile. Tile
    /// element (r, x) goes to <c>c[r * rowStride + x * columnStride]</c>.
    /// </summary>
    private static void MergeEdgeTile(float* tile, int tileStride, float* c, nint rowStride, nint columnStride,
        int rows, int columns, bool addToC)
    {
        // Unless C is stored transposed, its rows are contiguous, so groups of 8 values use vectors.
        int vectorColumns = columnStride == 1 && Vector256.IsHardwareAccelerated ? columns & ~7 : 0;
        for (int r = 0; r < rows; r++, tile += tileStride, c += rowStride)
        {
            int x = 0;
            for (; x < vectorColumns; x += 8)
            {
                var sum = Vector256.Load(tile + x);
                if (addToC) sum += Vector256.Load(c + x);
                sum.Store(c + x);
            }
            for (; x < columns; x++)
            {
                float* target = c + x * columnStride;
                *target = addToC ? tile[x] + *target : tile[x];
            }
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// Returns a 64-byte aligned pointer to at least <paramref name="length"/> floats of the
    /// thread's buffer, creating or growing the buffer when needed.
    /// </summary>
    internal static float* GetBuffer(ref AlignedBuffer? buffer, int length)
    {
        buffer ??= new AlignedBuffer();
        buffer.EnsureCapacity(length);
        return buffer.Start;
    }
}

/// <summary>
/// Splits one blocked multiplication across a <see cref="WorkerPool"/> by whole kernel panels of
/// rows or columns. K is never split, so every C element is computed by one worker in the same
/// order whatever the thread count.
/// </summary>
internal sealed unsafe class GemmParallelJob : IParallelJob
{
    // One reusable job per calling thread keeps Gemm.Multiply free of allocations. Gemm never
    // calls out to user code while a job runs, so a thread cannot re-enter and overwrite it.
    [ThreadStatic] private static GemmParallelJob? t_instance;

    private GemmOperands _operands;
    private GemmKernel _kernel;
    private bool _splitColumns;

    /// <summary>Runs the blocked multiplication of <paramref name="op"/> on <paramref name="workers"/>.</summary>
    public static void Run(in GemmOperands op, GemmKernel kernel, WorkerPool workers, bool splitColumns)
    {
        GemmParallelJob job = t_instance ??= new GemmParallelJob();
        job._operands = op;
        job._kernel = kernel;
        job._splitColumns = splitColumns;
        int panels = splitColumns
            ? (op.N + kernel.Columns - 1) / kernel.Columns
            : (op.M + kernel.Rows - 1) / kernel.Rows;
        try
        {
            workers.Run(job, panels);
        }
        finally
        {
            // Drop the pointers so a stale job cannot touch memory that is no longer pinned.
            job._operands = default;
        }
    }

    public void Execute(int begin, int end, int worker)
    {
        if (_splitColumns)
        {
            int nr = _kernel.Columns;
            GemmBlocked.Multiply(_operands, _kernel, 0, _operands.M, begin * nr, Math.Min(end * nr, _operands.N));
        }
        else
        {
            int mr = _kernel.Rows;
            GemmBlocked.Multiply(_operands, _kernel, begin * mr, Math.Min(end * mr, _operands.M), 0, _operands.N);
        }
    }
}
