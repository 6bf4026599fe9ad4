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
    /// Reads <paramref name="path"/>. Grayscale, palette and 16-bit files come back as BGR 8-bit too, because
    /// everything downstream expects one pixel layout. The caller owns (disposes) the Mat.
    /// </summary>
    /// <exception cref="ImageReadException">Missing, unsupported, empty, truncated or undecodable file.</exception>
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

        if (ImageHeader.Size(bytes) is var (width, height) && width * height > MaxPixels)
            throw new ImageReadException(path, $"the image is {width}x{height} ({width * height / 1e6:0} megapixels)", $"at most {MaxPixels / 1_000_000} megapixels");

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
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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
