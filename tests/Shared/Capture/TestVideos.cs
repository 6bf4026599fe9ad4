using OpenCvSharp;

namespace DefectInspector.Tests.Shared;

/// <summary>Videos the capture tests write themselves: each frame one flat colour that encodes its number.</summary>
public static class TestVideos
{
    public const int Width = 160;
    public const int Height = 120;

    /// <summary>Writes an MJPG .avi of <paramref name="frames"/> frames (at most 20, so colours stay apart).</summary>
    public static string Write(string path, int frames = 20, double fps = 20)
    {
        Assert.InRange(frames, 1, 20);
        using (var writer = new VideoWriter(path, FourCC.FromString("MJPG"), fps, new Size(Width, Height)))
        {
            Assert.True(writer.IsOpened(), $"test setup: OpenCV cannot write the MJPG video '{path}'");
            for (var i = 0; i < frames; i++)
            {
                using var frame = Frame(i);
                writer.Write(frame);
            }
        }

        return path;
    }

    /// <summary>Frame <paramref name="index"/>: blue rises and red falls with the index, so order and channel order show.</summary>
    public static Mat Frame(int index, int width = Width, int height = Height) =>
        new(height, width, MatType.CV_8UC3, new Scalar(Blue(index), 128, 255 - Blue(index)));

    /// <summary>The frame number a read frame shows, checked against its red channel too.</summary>
    public static int IndexOf(Mat frame)
    {
        var mean = Cv2.Mean(frame);
        var index = (int)Math.Round((mean.Val0 - 20) / 11.0);
        Assert.InRange(mean.Val2, 255 - Blue(index) - 6, 255 - Blue(index) + 6);
        return index;
    }

    private static int Blue(int index) => 20 + (index * 11);
}
