using DefectInspector.Vision.Capture;
using OpenCvSharp;

namespace DefectInspector.Cli.Commands;

/// <summary>Stand-in frames for the bench when no image is given: the virtual line's parts, with a scratch.</summary>
internal static class BenchFrames
{
    public static Mat Part(int width, int height, int seed)
    {
        using var part = SyntheticParts.Draw(width, height, new Random(seed), DefectKind.Scratch);
        return part.Image.Clone();
    }
}
