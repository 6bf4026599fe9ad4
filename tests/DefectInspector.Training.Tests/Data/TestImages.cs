using OpenCvSharp;

namespace DefectInspector.Training.Tests.Data;

/// <summary>Tiny images the tests write themselves, so no binary fixtures are needed.</summary>
internal static class TestImages
{
    /// <summary>A flat grey image in the format its extension names (png, jpg, bmp, ...).</summary>
    public static string Write(TempFolder folder, string relative, int width = 32, int height = 32, byte grey = 128)
    {
        var path = folder.File(relative);
        using var mat = new Mat(height, width, MatType.CV_8UC3, new Scalar(grey, grey, grey));
        Assert.True(Cv2.ImEncode(Path.GetExtension(path), mat, out var bytes, Array.Empty<int>()), $"test setup: cannot encode {path}");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A single-channel mask, defect pixels 255 in the top-left quarter.</summary>
    public static string Mask(TempFolder folder, string relative, int width = 32, int height = 32)
    {
        var path = folder.File(relative);
        using var mat = new Mat(height, width, MatType.CV_8UC1, new Scalar(0));
        mat[new Rect(0, 0, width / 2, height / 2)].SetTo(new Scalar(255));
        Assert.True(Cv2.ImWrite(path, mat), $"test setup: cannot write {path}");
        return path;
    }

    /// <summary>A file with an image extension whose content is no image.</summary>
    public static string Corrupt(TempFolder folder, string relative) =>
        folder.Text(relative, "this is not an image, whatever its extension says");
}
