using DefectInspector.Core.Explain;
using DefectInspector.Vision.Imaging;

namespace DefectInspector.Inference.Explain;

/// <summary>The maps and logits of one explained batch, as plain arrays off the device, whichever engine made them.</summary>
public sealed record Explanation(IReadOnlyList<Heatmap> Heatmaps, IReadOnlyList<float[]> Logits)
{
    /// <summary>
    /// One image's explanation from its raw map (feature resolution, score units) and logits; the normalised map is
    /// drawn at <paramref name="inputWidth"/> x <paramref name="inputHeight"/> by <see cref="MapNormaliser"/>.
    /// </summary>
    public static (Heatmap Heatmap, float[] Logits) Item(string method, string layer, int target, FloatMap raw, float[] logits, int inputWidth, int inputHeight) =>
        (new Heatmap(method, layer, target, raw, MapNormaliser.Normalise(raw, inputWidth, inputHeight)), logits);

    public static Explanation Of(IReadOnlyList<(Heatmap Heatmap, float[] Logits)> items) =>
        new(items.Select(i => i.Heatmap).ToList(), items.Select(i => i.Logits).ToList());
}
