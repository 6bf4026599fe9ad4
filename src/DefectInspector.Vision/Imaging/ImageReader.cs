using System.Globalization;
using OpenCvSharp;

namespace DefectInspector.Vision.Imaging;

/// <summary>Reads an image file into a BGR 8-bit, 3-channel Mat, or says precisely why it cannot.</summary>
public static class ImageReader
{
    /// <summary>
    /// Larger images are refused from their header, before decoding: 100 megapixels is beyond any line camera, and a
    /// 20000x20000 file would otherwise take 1.2 GB as BGR before it could be rejected.
    /// </summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>
    /// Larger files are refused before they are read: an uncompressed 100-megapixel image at 16 bits per RGB channel,
    /// the largest a camera writes within <see cref="MaxPixels"/>, is 600 MB.
    /// </summary>
    public const long MaxFileBytes = 640L * 1024 * 1024;

    private const string Accepted = "a PNG, JPEG, BMP or TIFF image";

    /// <summary>
    /// Reads <paramref name="path"/>. Grayscale, palette and 16-bit files come back as BGR 8-bit too, because
    /// everything downstream expects one pixel layout. The caller owns (disposes) the Mat.
    /// </summary>
    /// <exception cref="ImageReadException">Missing, unsupported, empty, oversized, truncated or undecodable file.</exception>
    public static Mat Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!ImageFormats.IsSupported(path))
        {
            var extension = Path.GetExtension(path);
            var what = extension.Length == 0 ? "no file extension" : $"unsupported extension '{extension}'";
            throw new ImageReadException(path, what, $"one of {ImageFormats.ExtensionList}");
        }

        var bytes = ReadBytes(path);
        if (bytes.Length == 0)
            throw new ImageReadException(path, "the file is empty (0 bytes)", "an encoded image");

        // OpenCV decodes by content, not extension, and knows formats whose size is not checked here: only the
        // accepted containers, whose header size is read below, reach the decoder.
        var format = ImageHeader.Format(bytes)
                     ?? throw new ImageReadException(path, "the content is none of the accepted formats (its first bytes match no PNG, JPEG, BMP or TIFF signature)", Accepted);
        if (ImageHeader.Size(bytes) is not var (width, height))
            throw new ImageReadException(path, $"the {format} header does not give the image size (corrupt or truncated)", $"{Accepted} with a complete header");
        // Each side first: the product of two 32-bit sizes can overflow.
        if (width > MaxPixels || height > MaxPixels || width * height > MaxPixels)
            throw new ImageReadException(path, string.Create(CultureInfo.InvariantCulture, $"the image is {width}x{height} ({(double)width * height / 1e6:0} megapixels)"),
                $"at most {MaxPixels / 1_000_000} megapixels");

        var missing = TruncationCheck.FindMissingEnd(bytes);
        if (missing is not null)
            throw new ImageReadException(path, $"the file is truncated ({bytes.Length} bytes)", missing);

        return Decode(path, bytes);
    }

    private static byte[] ReadBytes(string path)
    {
        if (Directory.Exists(path))
            throw new ImageReadException(path, "this is a folder", "an image file");
        if (!File.Exists(path))
            throw new ImageReadException(path, "the file does not exist", "an existing image file");
        try
        {
            // One open file for the size check and the read, so a file still growing cannot slip past the cap.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaxFileBytes)
                throw new ImageReadException(path, string.Create(CultureInfo.InvariantCulture, $"the file is {stream.Length / 1e6:0} MB"),
                    $"at most {MaxFileBytes / 1_000_000} MB (an image within {MaxPixels / 1_000_000} megapixels)");
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ImageReadException(path, $"the file cannot be read ({e.Message})", "a readable image file", e);
        }
    }

    // Decoding from memory rather than Cv2.ImRead: the bytes are already here for the truncation check, and
    // OpenCV's own file open mangles some non-ASCII paths.
    private static Mat Decode(string path, byte[] bytes)
    {
        Mat mat;
        try
        {
            mat = Cv2.ImDecode(bytes, ImreadModes.Color);
        }
        catch (OpenCVException e)
        {
            throw new ImageReadException(path, $"the decoder failed ({e.Message})", $"a valid image in one of {ImageFormats.ExtensionList}", e);
        }

        if (mat.Empty() || mat.Width == 0 || mat.Height == 0)
        {
            mat.Dispose();
            throw new ImageReadException(path, "the content could not be decoded (corrupt or not an image)", $"a valid image in one of {ImageFormats.ExtensionList}");
        }

        return mat;
    }
}
