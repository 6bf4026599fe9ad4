using System.Buffers.Binary;

namespace DefectInspector.Vision.Imaging;

/// <summary>Image dimensions read from a file's header, so a huge image is refused before it is decoded.</summary>
internal static class ImageHeader
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Width and height from a PNG, JPEG or BMP header; null for other formats or an unreadable header.</summary>
    public static (long Width, long Height)? Size(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 24 && data.StartsWith(PngSignature))
            return (BinaryPrimitives.ReadUInt32BigEndian(data[16..]), BinaryPrimitives.ReadUInt32BigEndian(data[20..]));
        if (data.Length >= 26 && data[0] == (byte)'B' && data[1] == (byte)'M')
            return (Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[18..])), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[22..])));
        if (data.Length >= 4 && data[0] == 0xFF && data[1] == 0xD8)
            return JpegSize(data);
        return null;
    }

    // Walks the marker segments to the first start-of-frame (SOF0..SOF15 except DHT, JPG and DAC), which holds the size.
    private static (long, long)? JpegSize(ReadOnlySpan<byte> data)
    {
        int offset = 2;
        while (offset + 9 < data.Length)
        {
            if (data[offset] != 0xFF) return null;
            byte marker = data[offset + 1];
            if (marker == 0xFF)
            {
                offset++;
                continue;
            }
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 2)..]);
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                return (BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 5)..]));
            offset += 2 + length;
        }
        return null;
    }
}
