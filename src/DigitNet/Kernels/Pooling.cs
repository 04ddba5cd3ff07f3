using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DigitNet.Kernels;

/// <summary>
/// Max and average pooling of one channel plane. <c>x</c> and <c>dx</c> are <c>[H, W]</c>,
/// <c>y</c>, <c>dy</c> and the arg-max indices are <c>[OH, OW]</c>, with the sizes of a
/// <see cref="ConvGeometry"/> whose channel count is ignored. Padding never wins a max, and the
/// average divides by the full window size <c>KH * KW</c>, padding included (PyTorch's
/// <c>count_include_pad=True</c>).
/// </summary>
public static class Pooling
{
    /// <summary>
    /// Writes the maximum of each window to <paramref name="y"/> and the plane index of the element
    /// that won to <paramref name="argmax"/>. Ties go to the first element in row-major window order;
    /// a NaN wins over any number, so it propagates.
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> y, Span<int> argmax)
    {
        CheckPlanes(x.Length, y.Length, g);
        if (argmax.Length != y.Length)
            throw new ArgumentException($"max pooling: {argmax.Length} arg-max slots for {y.Length} outputs");

        if (g is { KernelHeight: 2, KernelWidth: 2, StrideHeight: 2, StrideWidth: 2, PadHeight: 0, PadWidth: 0 })
        {
            MaxForward2x2(x, g, y, argmax);
            return;
        }

        int width = g.Width;
        for (int oy = 0; oy < g.OutHeight; oy++)
        {
            var (rowBegin, rowEnd) = WindowRange(oy, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
            for (int ox = 0; ox < g.OutWidth; ox++)
            {
                var (colBegin, colEnd) = WindowRange(ox, g.StrideWidth, g.PadWidth, g.KernelWidth, width);
                int best = rowBegin * width + colBegin;
                float bestValue = x[best];
                for (int iy = rowBegin; iy < rowEnd; iy++)
                {
                    var row = x.Slice(iy * width);
                    for (int ix = colBegin; ix < colEnd; ix++)
                    {
                        float value = row[ix];
                        if (value > bestValue || (float.IsNaN(value) && !float.IsNaN(bestValue)))
                        {
                            bestValue = value;
                            best = iy * width + ix;
                        }
                    }
                }
                int o = oy * g.OutWidth + ox;
                y[o] = bestValue;
                argmax[o] = best;
            }
        }
    }

    /// <summary>
    /// The common 2x2 window with stride 2 and no padding, without the clipping of the general
    /// loop; the comparison order and tie and NaN rules are the same.
    /// </summary>
    /// <remarks>
    /// Which element wins is data-dependent and unpredictable, so a branch per comparison costs a
    /// misprediction about every other time. Both paths here select without branches: AVX2 does
    /// eight windows at once, and the scalar loop, which takes the remaining windows, selects
    /// with bit masks.
    /// </remarks>
    private static unsafe void MaxForward2x2(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> y, Span<int> argmax)
    {
        int width = g.Width, outWidth = g.OutWidth;
        fixed (float* input = x, output = y)
        fixed (int* indices = argmax)
        {
            int oy = 0;
            if (Avx2.IsSupported && width is 4 or 8)
                oy = MaxNarrowRows2x2Avx2(input, width, g.OutHeight, output, indices);

            for (; oy < g.OutHeight; oy++)
            {
                int top = 2 * oy * width, bottom = top + width;
                float* outputRow = output + oy * outWidth;
                int* indexRow = indices + oy * outWidth;
                int ox = Avx2.IsSupported ? MaxRow2x2Avx2(input, top, width, outWidth, outputRow, indexRow) : 0;
                for (; ox < outWidth; ox++)
                {
                    int best = top + 2 * ox;
                    float bestValue = input[best];
                    Consider(input, best + 1, ref best, ref bestValue);
                    Consider(input, bottom + 2 * ox, ref best, ref bestValue);
                    Consider(input, bottom + 2 * ox + 1, ref best, ref bestValue);
                    outputRow[ox] = bestValue;
                    indexRow[ox] = best;
                }
            }
        }
    }

    /// <summary>
    /// Computes windows of one output row eight at a time, as far as whole groups of eight go, and
    /// returns the number of windows done.
    /// </summary>
    /// <remarks>
    /// Each row pair is split into the left and right elements of its windows. The top pair is
    /// compared first, then the bottom pair, then the two winners, which picks the same element
    /// as comparing in row-major order: a top element precedes every bottom one.
    /// </remarks>
    private static unsafe int MaxRow2x2Avx2(float* x, int top, int width, int outWidth, float* y, int* argmax)
    {
        var evenOffsets = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        var one = Vector256.Create(1);
        var rowStep = Vector256.Create(width);
        int ox = 0;
        for (; ox + 8 <= outWidth; ox += 8)
        {
            int column = top + 2 * ox;
            var (topLeft, topRight) = SplitWindowColumns(x + column);
            var (bottomLeft, bottomRight) = SplitWindowColumns(x + column + width);
            var topIndex = evenOffsets + Vector256.Create(column);
            var bottomIndex = topIndex + rowStep;

            var (topValue, topWinner) = Larger(topLeft, topIndex, topRight, topIndex + one);
            var (bottomValue, bottomWinner) = Larger(bottomLeft, bottomIndex, bottomRight, bottomIndex + one);
            var (value, winner) = Larger(topValue, topWinner, bottomValue, bottomWinner);
            value.Store(y + ox);
            winner.Store(argmax + ox);
        }
        return ox;
    }

    /// <summary>
    /// Computes whole output rows of a plane 4 or 8 pixels wide, whose windows are too few per row
    /// for <see cref="MaxRow2x2Avx2"/>, and returns the number of output rows done. Each step takes
    /// 16 consecutive inputs, which are the two input rows of one output row (width 8) or the four
    /// input rows of two output rows (width 4), and writes 4 consecutive outputs.
    /// </summary>
    /// <remarks>
    /// After the split into left and right elements, the step compares each left element with its
    /// right neighbour, then each top winner with the bottom winner of its window, which sits 4
    /// lanes further (width 8) or 2 lanes further within the same 128-bit lane (width 4).
    /// </remarks>
    private static unsafe int MaxNarrowRows2x2Avx2(float* x, int width, int outHeight, float* y, int* argmax)
    {
        var evenOffsets = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        var one = Vector256.Create(1);
        int rowsPerStep = width == 8 ? 1 : 2;
        int oy = 0;
        for (; oy + rowsPerStep <= outHeight; oy += rowsPerStep)
        {
            int start = 2 * oy * width;
            var (left, right) = SplitWindowColumns(x + start);
            var leftIndex = evenOffsets + Vector256.Create(start);
            var (rowValue, rowWinner) = Larger(left, leftIndex, right, leftIndex + one);

            Vector256<float> bottomValue;
            Vector256<int> bottomWinner;
            if (width == 8)
            {
                // Swap the 128-bit halves: lanes 0-3 (top winners) meet lanes 4-7 (bottom winners).
                const byte SwapHalves = 0b01_00_11_10;
                bottomValue = Avx2.Permute4x64(rowValue.AsDouble(), SwapHalves).AsSingle();
                bottomWinner = Avx2.Permute4x64(rowWinner.AsInt64(), SwapHalves).AsInt32();
            }
            else
            {
                // Swap the 64-bit pairs inside each 128-bit lane: lanes 0-1 meet lanes 2-3.
                const byte SwapPairs = 0b01_00_11_10;
                bottomValue = Avx.Permute(rowValue, SwapPairs);
                bottomWinner = Avx.Permute(rowWinner.AsSingle(), SwapPairs).AsInt32();
            }
            var (value, winner) = Larger(rowValue, rowWinner, bottomValue, bottomWinner);

            if (width == 4)
            {
                // The outputs sit in lanes 0-1 and 4-5; gather them into the low 128 bits.
                const byte GatherPairs = 0b11_01_10_00;
                value = Avx2.Permute4x64(value.AsDouble(), GatherPairs).AsSingle();
                winner = Avx2.Permute4x64(winner.AsInt64(), GatherPairs).AsInt32();
            }
            int output = oy * (width / 2);
            value.GetLower().Store(y + output);
            winner.GetLower().Store(argmax + output);
        }
        return oy;
    }

    /// <summary>Loads 16 values and returns the 8 at even positions and the 8 at odd positions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float> Even, Vector256<float> Odd) SplitWindowColumns(float* source)
    {
        var low = Avx.LoadVector256(source);
        var high = Avx.LoadVector256(source + 8);

        // vshufps works within 128-bit lanes, so the 64-bit halves come out as low0 high0 low1
        // high1; the permute puts them back in order.
        var even = Avx.Shuffle(low, high, 0b10_00_10_00);
        var odd = Avx.Shuffle(low, high, 0b11_01_11_01);
        const byte Reorder = 0b11_01_10_00;
        return (Avx2.Permute4x64(even.AsDouble(), Reorder).AsSingle(), Avx2.Permute4x64(odd.AsDouble(), Reorder).AsSingle());
    }

    /// <summary>
    /// Returns the later candidate where it is larger, or NaN while the earlier is not, else the
    /// earlier: the lane-wise form of <see cref="Consider"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Value, Vector256<int> Index) Larger(
        Vector256<float> earlier, Vector256<int> earlierIndex, Vector256<float> later, Vector256<int> laterIndex)
    {
        var laterIsNaN = ~Vector256.Equals(later, later);
        var earlierIsNumber = Vector256.Equals(earlier, earlier);
        var take = Vector256.GreaterThan(later, earlier) | (laterIsNaN & earlierIsNumber);
        return (Vector256.ConditionalSelect(take, later, earlier), Vector256.ConditionalSelect(take.AsInt32(), laterIndex, earlierIndex));
    }

    /// <summary>Replaces the best so far by element <paramref name="index"/> if it is larger, or NaN while the best is not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Consider(float* x, int index, ref int best, ref float bestValue)
    {
        float value = x[index];
        bool take = value > bestValue | (float.IsNaN(value) & !float.IsNaN(bestValue));

        // All ones when taking, else zero; selecting through the mask needs no branch.
        int mask = -Unsafe.As<bool, byte>(ref take);
        best ^= (best ^ index) & mask;
        int bestBits = BitConverter.SingleToInt32Bits(bestValue);
        bestBits ^= (bestBits ^ BitConverter.SingleToInt32Bits(value)) & mask;
        bestValue = BitConverter.Int32BitsToSingle(bestBits);
    }

    /// <summary>Adds each <paramref name="dy"/> value to <paramref name="dx"/> at its arg-max index; clear <paramref name="dx"/> first.</summary>
    public static void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        if (argmax.Length != dy.Length)
            throw new ArgumentException($"max pooling: {argmax.Length} arg-max slots for {dy.Length} gradients");
        for (int i = 0; i < dy.Length; i++) dx[argmax[i]] += dy[i];
    }

    /// <summary>Writes the mean of each window to <paramref name="y"/>.</summary>
    public static void AverageForward(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> y)
    {
        CheckPlanes(x.Length, y.Length, g);
        int width = g.Width;
        float scale = 1f / (g.KernelHeight * g.KernelWidth);
        for (int oy = 0; oy < g.OutHeight; oy++)
        {
            var (rowBegin, rowEnd) = WindowRange(oy, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
            for (int ox = 0; ox < g.OutWidth; ox++)
            {
                var (colBegin, colEnd) = WindowRange(ox, g.StrideWidth, g.PadWidth, g.KernelWidth, width);
                float sum = 0;
                for (int iy = rowBegin; iy < rowEnd; iy++)
                {
                    var row = x.Slice(iy * width);
                    for (int ix = colBegin; ix < colEnd; ix++) sum += row[ix];
                }
                y[oy * g.OutWidth + ox] = sum * scale;
            }
        }
    }

    /// <summary>Spreads each <paramref name="dy"/> value evenly over its window in <paramref name="dx"/>; clear <paramref name="dx"/> first.</summary>
    public static void AverageBackward(ReadOnlySpan<float> dy, in ConvGeometry g, Span<float> dx)
    {
        CheckPlanes(dx.Length, dy.Length, g);
        int width = g.Width;
        float scale = 1f / (g.KernelHeight * g.KernelWidth);
        for (int oy = 0; oy < g.OutHeight; oy++)
        {
            var (rowBegin, rowEnd) = WindowRange(oy, g.StrideHeight, g.PadHeight, g.KernelHeight, g.Height);
            for (int ox = 0; ox < g.OutWidth; ox++)
            {
                var (colBegin, colEnd) = WindowRange(ox, g.StrideWidth, g.PadWidth, g.KernelWidth, width);
                float share = dy[oy * g.OutWidth + ox] * scale;
                for (int iy = rowBegin; iy < rowEnd; iy++)
                {
                    var row = dx.Slice(iy * width);
                    for (int ix = colBegin; ix < colEnd; ix++) row[ix] += share;
                }
            }
        }
    }

    // The part of window o that lies inside the unpadded input, as [begin, end) input indices.
    private static (int Begin, int End) WindowRange(int o, int stride, int pad, int kernel, int size)
    {
        int start = o * stride - pad;
        return (Math.Max(start, 0), Math.Min(start + kernel, size));
    }

    private static void CheckPlanes(int inputLength, int outputLength, in ConvGeometry g)
    {
        if (inputLength != g.InputPlaneSize)
            throw new ArgumentException($"pooling: input plane has {inputLength} values, geometry {g} needs {g.InputPlaneSize}");
        if (outputLength != g.OutputPlaneSize)
            throw new ArgumentException($"pooling: output plane has {outputLength} values, geometry {g} needs {g.OutputPlaneSize}");
        if (g.PadHeight >= g.KernelHeight || g.PadWidth >= g.KernelWidth)
            throw new ArgumentException($"pooling: padding must be smaller than the window, got {g}");
    }
}
