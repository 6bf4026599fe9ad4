using OpenCvSharp;

namespace DefectInspector.Vision.Tests;

/// <summary>Images the tests draw themselves, so no binary fixtures are needed.</summary>
internal static class TestImages
{
    /// <summary>A 3-channel frame with four flat quadrants of clearly different colours (JPEG-friendly).</summary>
    public static Mat Quadrants(int width = 64, int height = 48)
    {
        var mat = new Mat(height, width, MatType.CV_8UC3, new Scalar(0, 0, 0));
        mat[new Rect(0, 0, width / 2, height / 2)].SetTo(new Scalar(200, 40, 40));
        mat[new Rect(width / 2, 0, width - width / 2, height / 2)].SetTo(new Scalar(40, 200, 40));
        mat[new Rect(0, height / 2, width / 2, height - height / 2)].SetTo(new Scalar(40, 40, 200));
        mat[new Rect(width / 2, height / 2, width - width / 2, height - height / 2)].SetTo(new Scalar(180, 180, 180));
        return mat;
    }

    public static byte[] Encode(Mat mat, string extension)
    {
        Assert.True(Cv2.ImEncode(extension, mat, out var bytes, Array.Empty<int>()), $"test setup: cannot encode {extension}");
        return bytes;
    }

    public static string Write(Mat mat, string path)
    {
        File.WriteAllBytes(path, Encode(mat, Path.GetExtension(path)));
        return path;
    }

    /// <summary>Mean absolute difference over all channels.</summary>
    public static double MeanAbsDiff(Mat a, Mat b)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        var mean = Cv2.Mean(diff);
        return (mean.Val0 + mean.Val1 + mean.Val2) / 3;
    }
}
