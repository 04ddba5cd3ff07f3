using System.Buffers.Binary;
using System.Text;

namespace DigitNet.Tests.Serialization;

/// <summary>Builds raw safetensors files by hand, including broken ones, for reader tests.</summary>
internal static class SafeTensorsBytes
{
    /// <summary>An 8-byte little-endian header length, the header text (unpadded) and the data bytes.</summary>
    public static byte[] Build(string header, byte[] data, ulong? declaredLength = null)
    {
        byte[] text = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + text.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)text.Length);
        text.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + text.Length);
        return bytes;
    }

    /// <summary>Little-endian float32 bytes of <paramref name="values"/>.</summary>
    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }
}
