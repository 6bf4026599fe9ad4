using DefectInspector.Vision.Capture;
using OpenCvSharp;

namespace DefectInspector.Cli.Commands;

/// <summary>Stand-in frames for the bench when no image is given: the virtual line's parts, with a scratch unless asked otherwise.</summary>
internal static class BenchFrames
{
    public static Mat Part(int width, int height, int seed, bool scratched = true)
    {
        using var part = SyntheticParts.Draw(width, height, new Random(seed), scratched ? DefectKind.Scratch : null);
        return part.Image.Clone();
    }
}
