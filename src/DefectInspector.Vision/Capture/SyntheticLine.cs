namespace DefectInspector.Vision.Capture;

/// <summary>
/// The sequence of parts the virtual line produces: from one seed, always the same parts with the same defects.
/// Training and evaluation code can draw from it directly to get exactly what the virtual source shows.
/// </summary>
public sealed class SyntheticLine
{
    private readonly int width;
    private readonly int height;
    private readonly double defectRate;
    private readonly Random rng;

    public SyntheticLine(int width, int height, double defectRate, int seed)
    {
        if (width < SyntheticParts.MinSize || height < SyntheticParts.MinSize)
            throw new ArgumentOutOfRangeException(nameof(width), $"virtual part frames of {width}x{height} are too small; expected at least {SyntheticParts.MinSize}x{SyntheticParts.MinSize} pixels");
        if (!(defectRate is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(defectRate), defectRate, "expected a defect rate (share of defective parts) from 0 to 1");
        (this.width, this.height, this.defectRate) = (width, height, defectRate);
        rng = new Random(seed);
    }

    /// <summary>The next part; the caller disposes it.</summary>
    public SyntheticPart Next() =>
        SyntheticParts.Draw(width, height, rng, SyntheticParts.PickDefect(rng, defectRate));
}
