namespace DefectInspector.Core.Explain;

/// <summary>
/// The display form of a raw map (see <see cref="Heatmap.Normalised"/>): ReLU, min-max at feature resolution, bilinear
/// to the input size with half-pixel centres (torch's align_corners=False, cv2's INTER_LINEAR), min-max again. Plain
/// arrays, so every engine draws its maps the same way.
/// </summary>
public static class MapNormaliser
{
    private const float Eps = 1e-7f;

    public static FloatMap Normalise(FloatMap raw, int width, int height)
    {
        var cell = new float[raw.Values.Length];
        for (int i = 0; i < cell.Length; i++) cell[i] = Math.Max(raw.Values[i], 0f);
        MinMax(cell);
        var resized = Resize(cell, raw.Width, raw.Height, width, height);
        MinMax(resized);
        return new FloatMap(width, height, resized);
    }

    private static float[] Resize(float[] source, int inW, int inH, int outW, int outH)
    {
        var (x0, x1, fx) = Taps(inW, outW);
        var (y0, y1, fy) = Taps(inH, outH);
        var result = new float[outW * outH];
        for (int y = 0; y < outH; y++)
        {
            int top = y0[y] * inW, bottom = y1[y] * inW;
            float wy = fy[y];
            for (int x = 0; x < outW; x++)
            {
                float upper = source[top + x0[x]] + (source[top + x1[x]] - source[top + x0[x]]) * fx[x];
                float lower = source[bottom + x0[x]] + (source[bottom + x1[x]] - source[bottom + x0[x]]) * fx[x];
                result[y * outW + x] = upper + (lower - upper) * wy;
            }
        }
        return result;
    }

    /// <summary>Per output index: the two source indices and the weight of the second (source clamped at 0, as torch does).</summary>
    private static (int[] Low, int[] High, float[] Weight) Taps(int inSize, int outSize)
    {
        var low = new int[outSize];
        var high = new int[outSize];
        var weight = new float[outSize];
        float scale = (float)inSize / outSize;
        for (int i = 0; i < outSize; i++)
        {
            float src = Math.Max((i + 0.5f) * scale - 0.5f, 0f);
            int l = Math.Min((int)src, inSize - 1);
            low[i] = l;
            high[i] = Math.Min(l + 1, inSize - 1);
            weight[i] = src - l;
        }
        return (low, high, weight);
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
