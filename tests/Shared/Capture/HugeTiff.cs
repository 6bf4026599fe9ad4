using System.Buffers.Binary;
using System.IO.Compression;

namespace DefectInspector.Tests.Shared;

/// <summary>
/// A valid grey TIFF of any size in one deflated strip, streamed row by row, so a 12000x12000 file (144 megapixels)
/// takes a few hundred kilobytes on disk and no big buffer in the test; libtiff decodes it.
/// </summary>
public static class HugeTiff
{
    private const int Entries = 9;
    private const int DataStart = 8 + 2 + Entries * 12 + 4;

    public static string Write(string path, int width, int height)
    {
        byte[] strip;
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                var row = new byte[width];
                Array.Fill(row, (byte)128);
                for (int y = 0; y < height; y++) zlib.Write(row);
            }
            strip = compressed.ToArray();
        }

        var header = new byte[DataStart];
        "II"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), Entries);
        int at = 10;
        void Entry(ushort tag, ushort type, uint value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at), tag);
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at + 2), type);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 4), 1);
            if (type == 3) BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at + 8), (ushort)value);
            else BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 8), value);
            at += 12;
        }
        const ushort Short = 3, Long = 4;
        Entry(256, Long, (uint)width);
        Entry(257, Long, (uint)height);
        Entry(258, Short, 8); // bits per sample
        Entry(259, Short, 8); // compression: deflate
        Entry(262, Short, 1); // photometric: black is zero
        Entry(273, Long, DataStart); // strip offset
        Entry(277, Short, 1); // samples per pixel
        Entry(278, Long, (uint)height); // rows per strip: one strip
        Entry(279, Long, (uint)strip.Length);
        using var file = File.Create(path);
        file.Write(header);
        file.Write(strip);
        return path;
    }
}
