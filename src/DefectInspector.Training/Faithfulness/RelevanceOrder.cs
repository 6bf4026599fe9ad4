using DefectInspector.Core.Explain;
using DefectInspector.Vision.Imaging;

namespace DefectInspector.Training.Faithfulness;

/// <summary>The input's pixels ranked by a map: the map resized to the input (as regions resize it to the frame), hottest first.</summary>
public static class RelevanceOrder
{
    /// <summary>Pixel indices (y * width + x) of a <paramref name="width"/> x <paramref name="height"/> input, most relevant first; ties keep raster order.</summary>
    public static int[] MostRelevantFirst(FloatMap map, int width, int height)
    {
        var heat = HeatmapProjection.ToFrame(map, width, height).Values;
        var order = Enumerable.Range(0, heat.Length).ToArray();
        // Descending by heat, ascending by index on ties, so a flat map gives the same order every run.
        Array.Sort(order, (a, b) => heat[b].CompareTo(heat[a]) is var c && c != 0 ? c : a.CompareTo(b));
        return order;
    }
}
