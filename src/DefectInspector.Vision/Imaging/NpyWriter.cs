using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using DefectInspector.Core.Explain;

namespace DefectInspector.Vision.Imaging;

/// <summary>Writes a <see cref="FloatMap"/> as a NumPy .npy (format 1.0) file: float32 little-endian, shape (Height, Width).</summary>
public static class NpyWriter
{
    private const int Alignment = 64;
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];

    public static void Write(FloatMap map, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Write(map, stream);
    }

    public static void Write(FloatMap map, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(stream);
        if (map.Width < 0 || map.Height < 0 || map.Values is null || map.Values.Length != map.Width * map.Height)
            throw new ArgumentException($"map {map.Width}x{map.Height} with {map.Values?.Length ?? 0} values: expected width x height values", nameof(map));

        stream.Write(Header(map.Height, map.Width));
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(map.Values.AsSpan()));
            return;
        }

        Span<byte> sample = stackalloc byte[4];
        foreach (var v in map.Values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(sample, v);
            stream.Write(sample);
        }
    }

    // numpy pads the dictionary with spaces and ends it with a newline so that the data starts on a 64-byte
    // boundary (the magic, version and 2-byte length count towards it); readers that memory-map rely on that.
    private static byte[] Header(int rows, int columns)
    {
        var dict = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
        var prefix = Magic.Length + 2;
        var total = (prefix + dict.Length + 1 + Alignment - 1) / Alignment * Alignment;
        var text = dict.PadRight(total - prefix - 1) + "\n";

        var header = new byte[total];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(Magic.Length), checked((ushort)text.Length));
        Encoding.ASCII.GetBytes(text, header.AsSpan(prefix));
        return header;
    }
}
