using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DigitNet.Kernels;

/// <summary>
/// A growable float buffer whose first element lies on a 64-byte cache line. Matrices stored in
/// it with a row stride that is a multiple of 16 floats have every row on a cache line, so the
/// GEMM's 64-byte loads of operands it reads in place never straddle two lines.
/// </summary>
internal sealed class AlignedBuffer
{
    private const int AlignmentFloats = 16;

    private float[] _array = [];
    private int _offset;

    /// <summary>Usable floats, from the aligned first element.</summary>
    public int Length { get; private set; }

    /// <summary>Replaces the buffer with a zeroed one of at least <paramref name="length"/> floats when it is shorter.</summary>
    public unsafe void EnsureCapacity(int length)
    {
        if (Length >= length)
            return;

        // The pinned object heap never moves the array, so the offset stays valid.
        _array = GC.AllocateArray<float>(length + AlignmentFloats, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        _offset = (int)((64 - (address & 63)) & 63) / sizeof(float);
        Length = length;
    }

    /// <summary>Floats [<paramref name="start"/>, + <paramref name="length"/>) from the aligned first element.</summary>
    public Span<float> Slice(int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)start + length, Length, nameof(length));
        return _array.AsSpan(_offset + start, length);
    }
}
