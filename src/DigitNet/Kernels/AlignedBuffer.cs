using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DigitNet.Kernels;

/// <summary>
/// A growable, pinned float buffer whose first element lies on a 64-byte cache line. Matrices
/// stored in it with a row stride that is a multiple of 16 floats have every row on a cache line,
/// so the GEMM's 64-byte loads never straddle two lines. It serves the GEMM's packing buffers and
/// the matrices that Conv2D hands to the GEMM.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    private const int AlignmentFloats = 16;

    private float[] _array = [];
    private float* _start;

    /// <summary>Usable floats, from the aligned first element.</summary>
    public int Length { get; private set; }

    /// <summary>The aligned first element. The buffer is pinned, so the pointer stays valid until the buffer grows.</summary>
    public float* Start => _start;

    /// <summary>
    /// Replaces the buffer with a zeroed one of at least <paramref name="length"/> floats when it is
    /// shorter, growing by at least half so that slowly rising lengths reallocate rarely.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EnsureCapacity(int length)
    {
        if (Length < length)
            Grow(length);
    }

    // Kept out of EnsureCapacity: the allocation call makes the runtime set up a call frame on
    // every entry to the method that contains it, which cost about 10 ns per GEMM call.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int length)
    {
        int grown = Math.Max(length, Length + Length / 2);

        // The pinned object heap never moves the array, so the pointer stays valid without `fixed`.
        _array = GC.AllocateArray<float>(grown + AlignmentFloats, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        _start = (float*)((address + 63) & ~(nint)63);
        Length = grown;
    }

    /// <summary>Returns floats [<paramref name="start"/>, + <paramref name="length"/>) from the aligned first element.</summary>
    public Span<float> Slice(int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)start + length, Length, nameof(length));
        return new Span<float>(_start + start, length);
    }
}
