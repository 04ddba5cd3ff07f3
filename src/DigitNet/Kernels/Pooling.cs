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
    private static void MaxForward2x2(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> y, Span<int> argmax)
    {
        int width = g.Width;
        for (int oy = 0; oy < g.OutHeight; oy++)
        {
            int top = 2 * oy * width, bottom = top + width;
            var outputRow = y.Slice(oy * g.OutWidth, g.OutWidth);
            var indexRow = argmax.Slice(oy * g.OutWidth, g.OutWidth);
            for (int ox = 0; ox < outputRow.Length; ox++)
            {
                int best = top + 2 * ox;
                float bestValue = x[best];
                Consider(x, best + 1, ref best, ref bestValue);
                Consider(x, bottom + 2 * ox, ref best, ref bestValue);
                Consider(x, bottom + 2 * ox + 1, ref best, ref bestValue);
                outputRow[ox] = bestValue;
                indexRow[ox] = best;
            }
        }
    }

    private static void Consider(ReadOnlySpan<float> x, int index, ref int best, ref float bestValue)
    {
        float value = x[index];
        if (value > bestValue || (float.IsNaN(value) && !float.IsNaN(bestValue)))
        {
            bestValue = value;
            best = index;
        }
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
