using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Training.Evaluate;

namespace DefectInspector.Training.Tests;

/// <summary>Hand-made outcomes: the kind "good" is the only good kind.</summary>
internal static class Outcomes
{
    public static ImageOutcome Of(string path, string kind, float score, IReadOnlyList<Region>? regions = null, FloatMap? heat = null, bool[]? mask = null)
    {
        var isDefect = kind != "good";
        return new ImageOutcome(path, kind, isDefect, score, isDefect ? kind : "good", regions ?? [], heat, mask);
    }

    public static Region RegionAt(int x, int y, int width, int height, float peak = 1f) =>
        new(new Box(x, y, width, height), width * height, peak, peak / 2, 1f);

    /// <summary>A <paramref name="width"/> x <paramref name="height"/> map, zero except <paramref name="value"/> at the given pixels.</summary>
    public static FloatMap Heat(int width, int height, float value = 1f, params (int X, int Y)[] hot)
    {
        var values = new float[width * height];
        foreach (var (x, y) in hot)
            values[y * width + x] = value;
        return new FloatMap(width, height, values);
    }

    /// <summary>A mask with the rectangle [x, x + w) x [y, y + h) marked.</summary>
    public static bool[] Mask(int width, int height, int x, int y, int w, int h)
    {
        var mask = new bool[width * height];
        for (var row = y; row < y + h; row++)
            for (var col = x; col < x + w; col++)
                mask[row * width + col] = true;
        return mask;
    }
}
