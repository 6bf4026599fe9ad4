namespace DefectInspector.Training.Augment;

/// <summary>
/// Augmentations that suit inspection photos: a part may arrive flipped or turned by 90 degrees, slightly
/// shifted, under different light, a little out of focus. Crops never cut the marked defect away.
/// </summary>
public sealed record AugmentOptions(
    bool Flips = true,
    bool Rotate90 = true,
    float MaxRotationDegrees = 5f,
    float MaxScaleJitter = 0.05f,
    float MaxShift = 0.03f,
    float MaxBrightness = 15f,
    float MaxContrast = 0.15f,
    float BlurProbability = 0.2f,
    float MinCropFraction = 0.85f)
{
    public static AugmentOptions None { get; } = new(false, false, 0, 0, 0, 0, 0, 0, 1f);
}
