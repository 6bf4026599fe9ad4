using System.Buffers.Binary;
using System.Text;
using DefectInspector.Core.Explain;
using DefectInspector.Vision.Imaging;

namespace DefectInspector.Vision.Tests.Imaging;

public sealed class NpyWriterTests
{
    private static (string Header, byte[] Data, int HeaderTotal) Parse(byte[] file)
    {
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'], file[..6]);
        Assert.Equal(1, file[6]); // major
        Assert.Equal(0, file[7]); // minor
        var length = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        var total = 10 + length;
        return (Encoding.ASCII.GetString(file, 10, length), file[total..], total);
    }

    [Theory]
    [InlineData(5, 3)]
    [InlineData(7, 7)]
    [InlineData(224, 1000)]
    public void Header_is_numpy_v1_padded_to_64_bytes(int width, int height)
    {
        var map = new FloatMap(width, height, new float[width * height]);
        using var stream = new MemoryStream();

        NpyWriter.Write(map, stream);

        var (header, data, total) = Parse(stream.ToArray());
        Assert.Equal(0, total % 64);
        Assert.EndsWith("\n", header);
        Assert.DoesNotContain("\n", header[..^1]);
        Assert.StartsWith("{", header);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        Assert.Contains($"'shape': ({height}, {width})", header);
        Assert.Equal(width * height * 4, data.Length);
    }

    [Fact]
    public void Data_round_trips_row_major_little_endian()
    {
        float[] values = [-1.5f, 0f, 0.25f, 3e8f, float.NaN, -0f, 1e-40f, float.MaxValue, 42f, -7f, 0.1f, 2f];
        var map = new FloatMap(4, 3, values);
        using var folder = new TempFolder();
        var path = folder.File("cam.npy");

        NpyWriter.Write(map, path);

        var (_, data, _) = Parse(File.ReadAllBytes(path));
        var back = Enumerable.Range(0, values.Length).Select(i => BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(4 * i))).ToArray();
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(map[1, 2], BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(4 * (2 * 4 + 1))));
    }

    [Fact]
    public void Mismatched_map_is_rejected()
    {
        using var stream = new MemoryStream();

        Assert.Throws<ArgumentException>(() => NpyWriter.Write(new FloatMap(3, 3, new float[8]), stream));
        Assert.Equal(0, stream.Length);
    }
}
