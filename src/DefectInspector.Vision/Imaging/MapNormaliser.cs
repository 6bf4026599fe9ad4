using DefectInspector.Core.Explain;

namespace DefectInspector.Vision.Imaging;

/// <summary>
/// The display form of a raw map (see <see cref="Heatmap.Normalised"/>): ReLU, min-max at feature resolution, bilinear
/// to the input size (<see cref="MapMats.ResizedTo"/>, as regions and overlays resize), min-max again. One for every
/// engine, so both draw their maps the same way.
/// </summary>
public static class MapNormaliser
{
    private const float Eps = 1e-7f;

    public static FloatMap Normalise(FloatMap raw, int width, int height)
    {
        var cell = new float[raw.Values.Length];
        for (int i = 0; i < cell.Length; i++) cell[i] = Math.Max(raw.Values[i], 0f);
        MinMax(cell);
        using var resized = MapMats.ResizedTo(raw with { Values = cell }, width, height, "raw heatmap");
        var values = resized.AsSpan<float>().ToArray();
        MinMax(values);
        return new FloatMap(width, height, values);
    }

    private static void MinMax(float[] values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        float range = max - min + Eps;
        for (int i = 0; i < values.Length; i++) values[i] = (values[i] - min) / range;
    }
}
