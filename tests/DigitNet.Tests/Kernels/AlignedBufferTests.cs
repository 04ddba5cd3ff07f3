using System.Runtime.CompilerServices;
using DigitNet.Kernels;

namespace DigitNet.Tests.Kernels;

public sealed class AlignedBufferTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(4099)]
    public unsafe void SliceStartsOnCacheLine(int length)
    {
        var buffer = new AlignedBuffer();
        for (int grow = 1; grow <= 3; grow++)
        {
            buffer.EnsureCapacity(length * grow);
            var span = buffer.Slice(0, length * grow);
            nint address = (nint)Unsafe.AsPointer(ref span[0]);

            Assert.Equal(0, address % 64);
            Assert.True(buffer.Length >= length * grow, $"length {buffer.Length} after asking for {length * grow}");
        }
    }

    [Fact]
    public void SlicePastLengthThrows()
    {
        var buffer = new AlignedBuffer();
        buffer.EnsureCapacity(10);

        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Slice(5, 6));
    }
}
