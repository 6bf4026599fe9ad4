using OpenCvSharp;

namespace DefectInspector.Cli.Commands;

/// <summary>A grey textured part with a dark scratch: a stand-in frame when no image is given.</summary>
internal static class SyntheticPart
{
    public static Mat Create(int width, int height, int seed = 1)
    {
        var frame = new Mat(height, width, MatType.CV_8UC3);
        Cv2.Randn(frame, new Scalar(128, 128, 128), new Scalar(18, 18, 18));
        Cv2.GaussianBlur(frame, frame, new Size(5, 5), 0);
        var rng = new Random(seed);
        var from = new Point(rng.Next(width / 4, width / 2), rng.Next(height / 4, height / 2));
        var to = new Point(from.X + width / 4, from.Y + height / 5);
        Cv2.Line(frame, from, to, new Scalar(40, 40, 40), Math.Max(2, width / 80));
        return frame;
    }
}
