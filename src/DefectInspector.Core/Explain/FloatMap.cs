namespace DefectInspector.Core.Explain;

/// <summary>A row-major single-channel float image.</summary>
public sealed record FloatMap(int Width, int Height, float[] Values)
{
    public float this[int x, int y] => Values[y * Width + x];

    public float Max() => Values.Length == 0 ? 0f : Values.Max();
}
