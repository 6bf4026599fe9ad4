namespace DefectInspector.Training.Evaluate;

/// <summary>
/// <see cref="PointingRadius"/>: frame pixels between the hottest pixel and the nearest defect pixel that still
/// count as a hit. <see cref="MaxPixels"/>: about how many pixels the pixel AUROC ranks (more are subsampled).
/// </summary>
public sealed record LocalisationOptions(int PointingRadius = 15, int MaxPixels = 2_000_000)
{
    public void Validate()
    {
        if (PointingRadius < 0)
            throw new ArgumentException($"pointing radius {PointingRadius}: expected 0 or more pixels");
        if (MaxPixels < 1)
            throw new ArgumentException($"pixel AUROC sample size {MaxPixels}: expected at least 1");
    }
}
