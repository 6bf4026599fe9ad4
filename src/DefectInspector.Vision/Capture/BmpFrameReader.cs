using System.Buffers.Binary;
using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// Reads the frames ffmpeg writes as a stream of BMP files (image2pipe). BMP is chosen because each frame carries
/// its own size in its first bytes, so no separate probe of the stream's resolution is needed, and decoding it is
/// little more than a copy.
/// </summary>
internal sealed class BmpFrameReader(Stream input)
{
    private const int FileHeaderLength = 14;

    // A 16k BGR frame is about 400 MB; anything larger is a corrupt length field, not a frame.
    private const int MaxFrameBytes = 512 * 1024 * 1024;

    private byte[] buffer = new byte[64 * 1024];

    /// <summary>The next frame as BGR, or null at the end of the stream.</summary>
    /// <exception cref="InvalidDataException">The data is not a BMP frame.</exception>
    public Mat? Next()
    {
        if (!Fill(0, FileHeaderLength))
            return null;
        if (buffer[0] != 'B' || buffer[1] != 'M')
            throw new InvalidDataException($"expected a BMP frame, got bytes {buffer[0]:X2} {buffer[1]:X2}");
        var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(2));
        if (length is <= FileHeaderLength or > MaxFrameBytes)
            throw new InvalidDataException($"a BMP frame declares {length} bytes");
        if (buffer.Length < length)
            Array.Resize(ref buffer, length);
        if (!Fill(FileHeaderLength, length - FileHeaderLength))
            return null;

        var frame = Cv2.ImDecode(buffer.AsSpan(0, length), ImreadModes.Color);
        if (!frame.Empty())
            return frame;
        frame.Dispose();
        throw new InvalidDataException("a BMP frame could not be decoded");
    }

    /// <summary>False when the stream ends first (a frame cut off by ffmpeg exiting counts as the end).</summary>
    private bool Fill(int offset, int count)
    {
        while (count > 0)
        {
            var read = input.Read(buffer, offset, count);
            if (read == 0)
                return false;
            offset += read;
            count -= read;
        }

        return true;
    }
}
