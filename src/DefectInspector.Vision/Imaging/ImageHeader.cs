using System.Buffers.Binary;

namespace DefectInspector.Vision.Imaging;

/// <summary>
/// What a file's first bytes say: which of the accepted containers it is and the image's size, so that a huge image,
/// or content OpenCV would decode although it is none of the accepted formats (a PNM or GIF named .png), is refused
/// before it is decoded.
/// </summary>
internal static class ImageHeader
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private const ushort TiffClassic = 42;
    private const ushort TiffBig = 43;
    private const ushort TiffImageWidth = 256;
    private const ushort TiffImageLength = 257;

    /// <summary>"PNG", "JPEG", "BMP" or "TIFF" by the file's signature; null for anything else.</summary>
    public static string? Format(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(PngSignature))
            return "PNG";
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
            return "JPEG";
        if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M')
            return "BMP";
        if (data.Length >= 4 && (data.StartsWith("II"u8) || data.StartsWith("MM"u8)) && TiffMagic(data) is TiffClassic or TiffBig)
            return "TIFF";
        return null;
    }

    /// <summary>Width and height from a PNG, JPEG, BMP or TIFF header; null for other content or an unreadable header.</summary>
    public static (long Width, long Height)? Size(ReadOnlySpan<byte> data) => Format(data) switch
    {
        "PNG" when data.Length >= 24 => (BinaryPrimitives.ReadUInt32BigEndian(data[16..]), BinaryPrimitives.ReadUInt32BigEndian(data[20..])),
        "BMP" => BmpSize(data),
        "JPEG" => JpegSize(data),
        "TIFF" => TiffSize(data),
        _ => null,
    };

    // BITMAPCOREHEADER (OS/2, 12 bytes) has 16-bit dimensions; every later header 32-bit ones, the height negative
    // for top-down rows.
    private static (long, long)? BmpSize(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 22 && BinaryPrimitives.ReadUInt32LittleEndian(data[14..]) == 12)
            return (BinaryPrimitives.ReadUInt16LittleEndian(data[18..]), BinaryPrimitives.ReadUInt16LittleEndian(data[20..]));
        if (data.Length >= 26)
            return (Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[18..])), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[22..])));
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

    private static ushort TiffMagic(ReadOnlySpan<byte> data) => U16(data, 2, data[0] == (byte)'I');

    // The first image file directory (the page OpenCV decodes), classic TIFF or BigTIFF: ImageWidth and ImageLength
    // are SHORT or LONG (or LONG8 in BigTIFF) values stored in the entry itself.
    private static (long, long)? TiffSize(ReadOnlySpan<byte> data)
    {
        bool little = data[0] == (byte)'I';
        bool big = TiffMagic(data) == TiffBig;
        if (big && (data.Length < 16 || U16(data, 4, little) != 8))
            return null;
        if (!big && data.Length < 8)
            return null;
        ulong directory = big ? U64(data, 8, little) : U32(data, 4, little);
        int countBytes = big ? 8 : 2;
        int entryBytes = big ? 20 : 12;
        if (directory < 8 || directory > (ulong)(data.Length - countBytes))
            return null;
        int start = (int)directory;
        ulong count = big ? U64(data, start, little) : U16(data, start, little);
        long? width = null, height = null;
        for (ulong i = 0; i < count && (width is null || height is null); i++)
        {
            ulong entry = (ulong)start + (ulong)countBytes + i * (ulong)entryBytes;
            if (entry + (ulong)entryBytes > (ulong)data.Length)
                return null;
            int at = (int)entry;
            ushort tag = U16(data, at, little);
            if (tag is not (TiffImageWidth or TiffImageLength))
                continue;
            int value = at + (big ? 12 : 8);
            long? number = U16(data, at + 2, little) switch
            {
                3 => U16(data, value, little),
                4 => U32(data, value, little),
                16 when big => (long)Math.Min(U64(data, value, little), long.MaxValue),
                _ => null,
            };
            if (tag == TiffImageWidth) width = number;
            else height = number;
        }
        return width is { } w && height is { } h ? (w, h) : null;
    }

    private static ushort U16(ReadOnlySpan<byte> data, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(data[at..]) : BinaryPrimitives.ReadUInt16BigEndian(data[at..]);

    private static uint U32(ReadOnlySpan<byte> data, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(data[at..]) : BinaryPrimitives.ReadUInt32BigEndian(data[at..]);

    private static ulong U64(ReadOnlySpan<byte> data, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt64LittleEndian(data[at..]) : BinaryPrimitives.ReadUInt64BigEndian(data[at..]);
}
