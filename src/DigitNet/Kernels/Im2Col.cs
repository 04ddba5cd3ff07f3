using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DigitNet.Kernels;

/// <summary>
/// The sizes of one 2-D convolution or pooling window over an input sample <c>[C, H, W]</c>:
/// a <c>KH x KW</c> window moved by <c>SH, SW</c> pixels over the input padded with <c>PH, PW</c>
/// zeros on each side. The output has <c>OH = (H + 2 PH - KH) / SH + 1</c> rows and
/// <c>OW = (W + 2 PW - KW) / SW + 1</c> columns (integer division, as in PyTorch).
/// </summary>
public readonly record struct ConvGeometry
{
    /// <summary>Creates a geometry; throws when a size is invalid or the window does not fit the padded input.</summary>
    public ConvGeometry(int channels, int height, int width, int kernelHeight, int kernelWidth,
        int strideHeight = 1, int strideWidth = 1, int padHeight = 0, int padWidth = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(strideHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(strideWidth);
        ArgumentOutOfRangeException.ThrowIfNegative(padHeight);
        ArgumentOutOfRangeException.ThrowIfNegative(padWidth);
        if (height + 2 * padHeight < kernelHeight || width + 2 * padWidth < kernelWidth)
        {
            throw new ArgumentException(
                $"window {kernelHeight}x{kernelWidth} is larger than the padded input {height + 2 * padHeight}x{width + 2 * padWidth}; " +
                "use a smaller kernel or more padding");
        }

        Channels = channels;
        Height = height;
        Width = width;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
        StrideHeight = strideHeight;
        StrideWidth = strideWidth;
        PadHeight = padHeight;
        PadWidth = padWidth;
        OutHeight = (height + 2 * padHeight - kernelHeight) / strideHeight + 1;
        OutWidth = (width + 2 * padWidth - kernelWidth) / strideWidth + 1;
    }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int KernelHeight { get; }
    public int KernelWidth { get; }
    public int StrideHeight { get; }
    public int StrideWidth { get; }
    public int PadHeight { get; }
    public int PadWidth { get; }
    public int OutHeight { get; }
    public int OutWidth { get; }

    /// <summary>Pixels of one input channel, <c>H * W</c>.</summary>
    public int InputPlaneSize => Height * Width;

    /// <summary>Pixels of one output channel, <c>OH * OW</c>.</summary>
    public int OutputPlaneSize => OutHeight * OutWidth;

    /// <summary>Rows of the column matrix, <c>C * KH * KW</c>: one per input channel and kernel position.</summary>
    public int ColumnRows => Channels * KernelHeight * KernelWidth;

    /// <summary>
    /// The first and one-past-last output column whose window column <paramref name="kx"/> falls
    /// inside the unpadded input; the columns outside read padding.
    /// </summary>
    public (int Begin, int End) ValidOutputColumns(int kx) =>
        ValidRange(kx, PadWidth, StrideWidth, Width, OutWidth);

    /// <summary>The same as <see cref="ValidOutputColumns"/> for window row <paramref name="ky"/>.</summary>
    public (int Begin, int End) ValidOutputRows(int ky) =>
        ValidRange(ky, PadHeight, StrideHeight, Height, OutHeight);

    // Output index o reads input index o * stride - pad + k, which must lie in [0, size).
    private static (int Begin, int End) ValidRange(int k, int pad, int stride, int size, int outSize)
    {
        int offset = k - pad;
        int begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int end = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
        end = Math.Min(end, outSize);
        return (Math.Min(begin, end), end);
    }

    public override string ToString() =>
        $"[{Channels}, {Height}, {Width}] window {KernelHeight}x{KernelWidth} stride {StrideHeight}x{StrideWidth} pad {PadHeight}x{PadWidth} -> {OutHeight}x{OutWidth}";
}

/// <summary>
/// im2col and col2im: the rearrangement that turns a convolution into one matrix product. Row
/// <c>(c * KH + ky) * KW + kx</c> of the column matrix holds, for every output pixel
/// <c>(oy, ox)</c> in row-major order, the input pixel that kernel position <c>(c, ky, kx)</c>
/// multiplies there, or 0 where the window covers padding. The convolution is then
/// <c>y[OUT, OH * OW] = W[OUT, C * KH * KW] * col[C * KH * KW, OH * OW]</c>.
/// </summary>
/// <remarks>
/// The column block of one sample may sit inside a wider matrix (row stride <c>ldcol</c>), so that
/// the blocks of a whole batch side by side form <c>[C * KH * KW, N * OH * OW]</c> and a single
/// product covers the batch. When the output is as large as the input with stride 1 (a 3x3
/// kernel with padding 1, say), each row is the input channel shifted as a whole, which costs one
/// copy per row however small the plane. Otherwise, with stride 1, each output row is a copy of an
/// input row between two runs of zeros. The valid ranges are computed once per kernel position,
/// so the copy loops need no bounds tests.
/// </remarks>
public static class Im2Col
{
    /// <summary>
    /// Writes the column block of sample <paramref name="x"/> (<c>[C, H, W]</c>) to
    /// <paramref name="col"/>: row <c>r</c> occupies <c>col[r * ldcol .. r * ldcol + OH * OW)</c>.
    /// </summary>
    public static void Fill(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> col, int ldcol)
    {
        CheckSizes(x.Length, col.Length, ldcol, g);
        if (IsSameSizeUnitStride(g))
        {
            if (FitsRowVectors(g)) FillRowVectors(x, g, col, ldcol);
            else FillShifted(x, g, col, ldcol);
            return;
        }

        int kh = g.KernelHeight, kw = g.KernelWidth, ow = g.OutWidth;
        int sh = g.StrideHeight, sw = g.StrideWidth;

        for (int c = 0; c < g.Channels; c++)
        {
            var plane = x.Slice(c * g.InputPlaneSize, g.InputPlaneSize);
            for (int ky = 0; ky < kh; ky++)
            {
                var (rowBegin, rowEnd) = g.ValidOutputRows(ky);
                for (int kx = 0; kx < kw; kx++)
                {
                    var row = col.Slice(((c * kh + ky) * kw + kx) * ldcol, g.OutputPlaneSize);
                    var (colBegin, colEnd) = g.ValidOutputColumns(kx);
                    int ixBegin = colBegin * sw - g.PadWidth + kx;

                    row.Slice(0, rowBegin * ow).Clear();
                    row.Slice(rowEnd * ow).Clear();
                    for (int oy = rowBegin; oy < rowEnd; oy++)
                    {
                        var destination = row.Slice(oy * ow, ow);
                        var source = plane.Slice((oy * sh - g.PadHeight + ky) * g.Width);
                        destination.Slice(0, colBegin).Clear();
                        destination.Slice(colEnd).Clear();
                        if (sw == 1)
                        {
                            source.Slice(ixBegin, colEnd - colBegin).CopyTo(destination.Slice(colBegin));
                        }
                        else
                        {
                            for (int ox = colBegin, ix = ixBegin; ox < colEnd; ox++, ix += sw)
                                destination[ox] = source[ix];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Adds the column block <paramref name="col"/> back onto sample <paramref name="dx"/>
    /// (<c>[C, H, W]</c>): the adjoint of <see cref="Fill"/>, which sums the entries of every input
    /// pixel that several windows share and drops the entries that fell on padding. It
    /// accumulates, so clear <paramref name="dx"/> first for a plain gradient. The column block is
    /// scratch: entries that fall on padding may be set to zero.
    /// </summary>
    public static void Accumulate(Span<float> col, int ldcol, in ConvGeometry g, Span<float> dx)
    {
        CheckSizes(dx.Length, col.Length, ldcol, g);
        if (IsSameSizeUnitStride(g))
        {
            if (FitsRowVectors(g)) AccumulateRowVectors(col, ldcol, g, dx);
            else AccumulateShifted(col, ldcol, g, dx);
            return;
        }

        int kh = g.KernelHeight, kw = g.KernelWidth, ow = g.OutWidth;
        int sh = g.StrideHeight, sw = g.StrideWidth;

        for (int c = 0; c < g.Channels; c++)
        {
            var plane = dx.Slice(c * g.InputPlaneSize, g.InputPlaneSize);
            for (int ky = 0; ky < kh; ky++)
            {
                var (rowBegin, rowEnd) = g.ValidOutputRows(ky);
                for (int kx = 0; kx < kw; kx++)
                {
                    var row = col.Slice(((c * kh + ky) * kw + kx) * ldcol, g.OutputPlaneSize);
                    var (colBegin, colEnd) = g.ValidOutputColumns(kx);
                    int ixBegin = colBegin * sw - g.PadWidth + kx;
                    for (int oy = rowBegin; oy < rowEnd; oy++)
                    {
                        var source = row.Slice(oy * ow, ow);
                        var destination = plane.Slice((oy * sh - g.PadHeight + ky) * g.Width);
                        if (sw == 1)
                        {
                            var target = destination.Slice(ixBegin, colEnd - colBegin);
                            System.Numerics.Tensors.TensorPrimitives.Add(target, source.Slice(colBegin, colEnd - colBegin), target);
                        }
                        else
                        {
                            for (int ox = colBegin, ix = ixBegin; ox < colEnd; ox++, ix += sw)
                                destination[ix] += source[ox];
                        }
                    }
                }
            }
        }
    }

    // With stride 1 and an output as large as the input (padding (K - 1) / 2 on each side), row
    // (c, ky, kx) of the column block is channel c shifted by (ky - PH) * W + (kx - PW) elements,
    // except in the few columns where a window reads padding. Small planes (8x8, 4x4) would
    // otherwise need one tiny copy per output row, whose call overhead exceeds the copy itself.
    private static bool IsSameSizeUnitStride(in ConvGeometry g) =>
        g.StrideHeight == 1 && g.StrideWidth == 1 && g.OutHeight == g.Height && g.OutWidth == g.Width;

    private static void FillShifted(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> col, int ldcol)
    {
        int plane = g.InputPlaneSize;
        for (int c = 0; c < g.Channels; c++)
        {
            var source = x.Slice(c * plane, plane);
            for (int ky = 0; ky < g.KernelHeight; ky++)
            {
                for (int kx = 0; kx < g.KernelWidth; kx++)
                {
                    var row = col.Slice(((c * g.KernelHeight + ky) * g.KernelWidth + kx) * ldcol, plane);
                    int shift = (ky - g.PadHeight) * g.Width + (kx - g.PadWidth);
                    int begin = Math.Max(0, -shift), end = Math.Min(plane, plane - shift);
                    if (end <= begin)
                    {
                        row.Clear();
                        continue;
                    }

                    // Rows of the window above or below the input fall outside [begin, end).
                    row.Slice(0, begin).Clear();
                    row.Slice(end).Clear();
                    source.Slice(begin + shift, end - begin).CopyTo(row.Slice(begin));
                    ClearPaddedColumns(row, g, kx);
                }
            }
        }
    }

    private static void AccumulateShifted(Span<float> col, int ldcol, in ConvGeometry g, Span<float> dx)
    {
        int plane = g.InputPlaneSize;
        for (int c = 0; c < g.Channels; c++)
        {
            var target = dx.Slice(c * plane, plane);
            for (int ky = 0; ky < g.KernelHeight; ky++)
            {
                for (int kx = 0; kx < g.KernelWidth; kx++)
                {
                    var row = col.Slice(((c * g.KernelHeight + ky) * g.KernelWidth + kx) * ldcol, plane);
                    int shift = (ky - g.PadHeight) * g.Width + (kx - g.PadWidth);
                    int begin = Math.Max(0, -shift), end = Math.Min(plane, plane - shift);
                    if (end <= begin) continue;

                    // Entries in padded columns would wrap onto the neighbouring input row.
                    ClearPaddedColumns(row, g, kx);
                    var destination = target.Slice(begin + shift, end - begin);
                    System.Numerics.Tensors.TensorPrimitives.Add(destination, row.Slice(begin, end - begin), destination);
                }
            }
        }
    }

    // A 3x3 window with padding 1 on a plane 4 or 8 pixels wide: each image row is one vector,
    // so the row of column (c, ky, kx) for output row oy is input row oy + ky - 1 moved sideways
    // by kx - 1 lanes, with a zero shifted in. That takes one permute and one mask per row, where
    // the copies of FillShifted cost more in calls than in data for planes this small.
    private static bool FitsRowVectors(in ConvGeometry g) =>
        Avx2.IsSupported && g.KernelHeight == 3 && g.KernelWidth == 3 && g.PadHeight == 1 && g.PadWidth == 1
        && g.Width is 4 or 8 && IsSameSizeUnitStride(g);

    private static unsafe void FillRowVectors(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> col, int ldcol)
    {
        fixed (float* input = x, output = col)
        {
            if (g.Width == 8) FillRowVectors8(input, g.Channels, g.Height, output, ldcol);
            else FillRowVectors4(input, g.Channels, g.Height, output, ldcol);
        }
    }

    private static unsafe void FillRowVectors8(float* x, int channels, int height, float* col, nint ldcol)
    {
        const int Width = 8;

        // Lane ox of the kx = 0 row reads input column ox - 1 and of the kx = 2 row column ox + 1.
        var fromLeft = Vector256.Create(0, 0, 1, 2, 3, 4, 5, 6);
        var fromRight = Vector256.Create(1, 2, 3, 4, 5, 6, 7, 7);
        var clearFirst = Vector256.Create(0, -1, -1, -1, -1, -1, -1, -1).AsSingle();
        var clearLast = Vector256.Create(-1, -1, -1, -1, -1, -1, -1, 0).AsSingle();

        for (int c = 0; c < channels; c++)
        {
            float* plane = x + (nint)c * height * Width;
            float* rows = col + c * 9 * ldcol;
            for (int iy = 0; iy < height; iy++)
            {
                var middle = Vector256.Load(plane + iy * Width);
                var left = Avx2.PermuteVar8x32(middle, fromLeft) & clearFirst;
                var right = Avx2.PermuteVar8x32(middle, fromRight) & clearLast;

                // Input row iy is output row iy - ky + 1 of the rows for ky = 0, 1, 2.
                for (int ky = 0; ky < 3; ky++)
                {
                    int oy = iy - ky + 1;
                    if ((uint)oy >= (uint)height) continue;
                    float* target = rows + ky * 3 * ldcol + oy * Width;
                    left.Store(target);
                    middle.Store(target + ldcol);
                    right.Store(target + 2 * ldcol);
                }
            }

            // The window's top row reads padding above output row 0 and its bottom row below the last.
            for (int kx = 0; kx < 3; kx++)
            {
                Vector256<float>.Zero.Store(rows + kx * ldcol);
                Vector256<float>.Zero.Store(rows + (6 + kx) * ldcol + (height - 1) * Width);
            }
        }
    }

    private static unsafe void FillRowVectors4(float* x, int channels, int height, float* col, nint ldcol)
    {
        const int Width = 4;
        var fromLeft = Vector128.Create(0, 0, 1, 2);
        var fromRight = Vector128.Create(1, 2, 3, 3);
        var clearFirst = Vector128.Create(0, -1, -1, -1).AsSingle();
        var clearLast = Vector128.Create(-1, -1, -1, 0).AsSingle();

        for (int c = 0; c < channels; c++)
        {
            float* plane = x + (nint)c * height * Width;
            float* rows = col + c * 9 * ldcol;
            for (int iy = 0; iy < height; iy++)
            {
                var middle = Vector128.Load(plane + iy * Width);
                var left = Avx.PermuteVar(middle, fromLeft) & clearFirst;
                var right = Avx.PermuteVar(middle, fromRight) & clearLast;
                for (int ky = 0; ky < 3; ky++)
                {
                    int oy = iy - ky + 1;
                    if ((uint)oy >= (uint)height) continue;
                    float* target = rows + ky * 3 * ldcol + oy * Width;
                    left.Store(target);
                    middle.Store(target + ldcol);
                    right.Store(target + 2 * ldcol);
                }
            }
            for (int kx = 0; kx < 3; kx++)
            {
                Vector128<float>.Zero.Store(rows + kx * ldcol);
                Vector128<float>.Zero.Store(rows + (6 + kx) * ldcol + (height - 1) * Width);
            }
        }
    }

    // The adjoint of FillRowVectors: input row iy gathers, for ky = 0, 1, 2 and then kx = 0, 1, 2,
    // output row iy - ky + 1 of row (c, ky, kx) moved back by kx - 1 lanes. Each input element
    // receives its additions in the same (ky, kx) order as in AccumulateShifted, so the sums are
    // the same; the column block is only read.
    private static unsafe void AccumulateRowVectors(Span<float> col, int ldcol, in ConvGeometry g, Span<float> dx)
    {
        fixed (float* input = col, output = dx)
        {
            if (g.Width == 8) AccumulateRowVectors8(input, ldcol, g.Channels, g.Height, output);
            else AccumulateRowVectors4(input, ldcol, g.Channels, g.Height, output);
        }
    }

    private static unsafe void AccumulateRowVectors8(float* col, nint ldcol, int channels, int height, float* dx)
    {
        const int Width = 8;

        // The kx = 0 row of output column ox came from input column ox - 1, so input column ix
        // takes lane ix + 1 of it, and the kx = 2 row gives lane ix - 1.
        var fromRight = Vector256.Create(1, 2, 3, 4, 5, 6, 7, 7);
        var fromLeft = Vector256.Create(0, 0, 1, 2, 3, 4, 5, 6);
        var clearFirst = Vector256.Create(0, -1, -1, -1, -1, -1, -1, -1).AsSingle();
        var clearLast = Vector256.Create(-1, -1, -1, -1, -1, -1, -1, 0).AsSingle();

        for (int c = 0; c < channels; c++)
        {
            float* plane = dx + (nint)c * height * Width;
            float* rows = col + c * 9 * ldcol;
            for (int iy = 0; iy < height; iy++)
            {
                var sum = Vector256.Load(plane + iy * Width);
                for (int ky = 0; ky < 3; ky++)
                {
                    int oy = iy - ky + 1;
                    if ((uint)oy >= (uint)height) continue;
                    float* source = rows + ky * 3 * ldcol + oy * Width;
                    sum += Avx2.PermuteVar8x32(Vector256.Load(source), fromRight) & clearLast;
                    sum += Vector256.Load(source + ldcol);
                    sum += Avx2.PermuteVar8x32(Vector256.Load(source + 2 * ldcol), fromLeft) & clearFirst;
                }
                sum.Store(plane + iy * Width);
            }
        }
    }

    private static unsafe void AccumulateRowVectors4(float* col, nint ldcol, int channels, int height, float* dx)
    {
        const int Width = 4;
        var fromRight = Vector128.Create(1, 2, 3, 3);
        var fromLeft = Vector128.Create(0, 0, 1, 2);
        var clearFirst = Vector128.Create(0, -1, -1, -1).AsSingle();
        var clearLast = Vector128.Create(-1, -1, -1, 0).AsSingle();

        for (int c = 0; c < channels; c++)
        {
            float* plane = dx + (nint)c * height * Width;
            float* rows = col + c * 9 * ldcol;
            for (int iy = 0; iy < height; iy++)
            {
                var sum = Vector128.Load(plane + iy * Width);
                for (int ky = 0; ky < 3; ky++)
                {
                    int oy = iy - ky + 1;
                    if ((uint)oy >= (uint)height) continue;
                    float* source = rows + ky * 3 * ldcol + oy * Width;
                    sum += Avx.PermuteVar(Vector128.Load(source), fromRight) & clearLast;
                    sum += Vector128.Load(source + ldcol);
                    sum += Avx.PermuteVar(Vector128.Load(source + 2 * ldcol), fromLeft) & clearFirst;
                }
                sum.Store(plane + iy * Width);
            }
        }
    }

    /// <summary>Zeroes, in every output row of <paramref name="row"/>, the columns where window column <paramref name="kx"/> reads padding.</summary>
    private static void ClearPaddedColumns(Span<float> row, in ConvGeometry g, int kx)
    {
        var (colBegin, colEnd) = g.ValidOutputColumns(kx);
        int width = g.OutWidth;
        if (colBegin == 0 && colEnd == width) return;
        for (int rowStart = 0; rowStart < row.Length; rowStart += width)
        {
            for (int ox = 0; ox < colBegin; ox++) row[rowStart + ox] = 0;
            for (int ox = colEnd; ox < width; ox++) row[rowStart + ox] = 0;
        }
    }

    private static void CheckSizes(int sampleLength, int colLength, int ldcol, in ConvGeometry g)
    {
        if (sampleLength != g.Channels * g.InputPlaneSize)
            throw new ArgumentException($"im2col: sample has {sampleLength} values, geometry {g} needs {g.Channels * g.InputPlaneSize}");
        if (ldcol < g.OutputPlaneSize)
            throw new ArgumentException($"im2col: row stride {ldcol} is shorter than a row of {g.OutputPlaneSize} output pixels");
        long needed = (long)(g.ColumnRows - 1) * ldcol + g.OutputPlaneSize;
        if (colLength < needed)
            throw new ArgumentException($"im2col: column span has {colLength} values, geometry {g} with row stride {ldcol} needs {needed}");
    }
}
