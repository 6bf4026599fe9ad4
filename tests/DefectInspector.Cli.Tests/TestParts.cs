using OpenCvSharp;

namespace DefectInspector.Cli.Tests;

/// <summary>Noisy grey 320x240 parts with a dark scratch, for the commands that read image files.</summary>
internal static class TestParts
{
    public static string Write(string parent, string name, int count, string extension = ".jpg")
    {
        string folder = Directory.CreateDirectory(Path.Combine(parent, name)).FullName;
        for (int i = 0; i < count; i++)
        {
            using var image = new Mat(240, 320, MatType.CV_8UC3, new Scalar(120 + 10 * i, 120, 120));
            Cv2.Randn(image, new Scalar(120, 120, 120), new Scalar(20, 20, 20));
            Cv2.Line(image, new Point(40 + 20 * i, 60), new Point(200, 150 + 10 * i), new Scalar(20, 20, 20), 4);
            Cv2.ImWrite(Path.Combine(folder, $"part-{i}{extension}"), image);
        }
        return folder;
    }
}
