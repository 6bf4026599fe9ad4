namespace DefectInspector.Core.Regions;

/// <summary>How a threshold on the heatmap is read.</summary>
public enum ThresholdMode
{
    /// <summary>In the raw map's score units (calibrated on good parts: "hotter than any good part").</summary>
    Absolute,

    /// <summary>A fraction of this image's peak heat.</summary>
    Relative,
}

/// <summary>How heat becomes regions: threshold, smallest area kept (frame pixels), at most how many.</summary>
public sealed record RegionSettings(ThresholdMode Mode = ThresholdMode.Relative, float Threshold = 0.5f, int MinArea = 16, int MaxRegions = 10)
{
    public void Validate()
    {
        if (Mode == ThresholdMode.Relative && Threshold is <= 0f or > 1f)
            throw new ArgumentException($"region threshold {Threshold}: a relative threshold must be in (0, 1]");
        if (!float.IsFinite(Threshold))
            throw new ArgumentException($"region threshold {Threshold}: expected a finite number");
        if (MinArea < 1)
            throw new ArgumentException($"region minimum area {MinArea}: expected at least 1 pixel");
        if (MaxRegions < 1)
            throw new ArgumentException($"region maximum count {MaxRegions}: expected at least 1");
    }
}
