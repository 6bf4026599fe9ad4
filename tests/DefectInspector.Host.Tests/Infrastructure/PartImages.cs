using DefectInspector.Vision.Capture;
using OpenCvSharp;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>Part photos for watched folders: the virtual line's parts, every other one with a defect.</summary>
internal static class PartImages
{
    public const int Width = 320;
    public const int Height = 240;

    /// <summary>Writes <paramref name="count"/> PNGs named <paramref name="prefix"/>-NNN.png; returns their names.</summary>
    public static List<string> Write(string folder, int count, string prefix = "part", int seed = 1)
    {
        var rng = new Random(seed);
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            using var part = SyntheticParts.Draw(Width, Height, rng, i % 2 == 1 ? Enum.GetValues<DefectKind>()[i / 2 % 3] : null);
            string name = $"{prefix}-{i:000}.png";
            // Written under a hidden name and renamed, as a PLC or camera gateway should drop files.
            string temp = Path.Combine(folder, "." + name);
            Cv2.ImWrite(temp, part.Image, [(int)ImwriteFlags.PngCompression, 1]);
            File.Move(temp, Path.Combine(folder, name));
            names.Add(name);
        }
        return names;
    }
}
