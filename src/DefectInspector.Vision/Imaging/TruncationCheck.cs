using System.Buffers.Binary;

namespace DefectInspector.Vision.Imaging;

/// <summary>
/// Finds files cut short in transfer. libjpeg fills a truncated scan with grey and libpng may decode the rows it
/// got, so a decode that "succeeds" is not proof the whole image arrived; the container's end marker is.
/// Files are recognised by their signature, not their extension, because that is what the decoder does too.
/// </summary>
internal static class TruncationCheck
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Returns what is missing, or null when the file looks complete (or is a format not checked here).</summary>
    public static string? FindMissingEnd(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 2 && data[0] == 0xFF && data[1] == 0xD8)
            return JpegEndsWithEoi(data) ? null : "a JPEG ending with the EOI marker FF D9";
        if (data.StartsWith(PngSignature))
            return PngHasIend(data) ? null : "a PNG with all its chunks up to IEND";
        if (data.Length >= 6 && data[0] == (byte)'B' && data[1] == (byte)'M')
            return BmpHasDeclaredSize(data) ? null : "a BMP as long as its header's file size";
        return null;
    }

    // Some writers pad a JPEG after EOI with zero bytes; that padding is harmless, anything else after the
    // last marker is not. Searching for FF D9 anywhere would be fooled by an EXIF thumbnail's own EOI.
    private static bool JpegEndsWithEoi(ReadOnlySpan<byte> data)
    {
        var end = data.Length;
        while (end > 2 && data[end - 1] == 0x00)
            end--;
        return end >= 4 && data[end - 2] == 0xFF && data[end - 1] == 0xD9;
    }

    // Walking the chunk lengths, rather than looking for the text "IEND", also catches a file cut inside a
    // chunk whose length field promises more data than there is.
    private static bool PngHasIend(ReadOnlySpan<byte> data)
    {
        var offset = PngSignature.Length;
        while (offset + 8 <= data.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[offset..]);
            var type = data.Slice(offset + 4, 4);
            var next = (long)offset + 12 + length;
            if (next > data.Length)
                return false;
            if (type.SequenceEqual("IEND"u8))
                return true;
            offset = (int)next;
        }

        return false;
    }

    // A size of 0 means the writer did not fill the field in; then there is nothing to check against.
    private static bool BmpHasDeclaredSize(ReadOnlySpan<byte> data)
    {
        var declared = BinaryPrimitives.ReadUInt32LittleEndian(data[2..]);
        return declared == 0 || declared <= data.Length;
    }
}
