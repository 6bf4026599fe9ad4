using DefectInspector.Core.Explain;

namespace DefectInspector.Vision.Imaging;

/// <summary>A feature-resolution map projected onto the frame it explains (bilinear, as regions see it).</summary>
public static class HeatmapProjection
{
    public static FloatMap ToFrame(FloatMap map, int frameWidth, int frameHeight)
    {
        using var resized = MapMats.ResizedTo(map, frameWidth, frameHeight, "heatmap");
        return new FloatMap(frameWidth, frameHeight, resized.AsSpan<float>().ToArray());
    }
}
