namespace DefectInspector.Vision.Rendering;

/// <summary>How an overlay is encoded.</summary>
public enum ImageEncoding
{
    Jpeg,
    Png,
}

/// <summary>
/// Overlay output: at most <see cref="MaxWidth"/> pixels wide (aspect kept; null = frame size), encoded as
/// <see cref="Encoding"/>; <see cref="Alpha"/> is the heat colour's weight where the heat is 1.
/// </summary>
public sealed record OverlayOptions(int? MaxWidth = null, ImageEncoding Encoding = ImageEncoding.Jpeg, int JpegQuality = 85, float Alpha = 0.45f)
{
    public void Validate()
    {
        if (MaxWidth is < 1)
            throw new ArgumentException($"overlay maximum width {MaxWidth}: expected at least 1 pixel");
        if (!Enum.IsDefined(Encoding))
            throw new ArgumentException($"overlay encoding {Encoding}: expected Jpeg or Png");
        if (JpegQuality is < 1 or > 100)
            throw new ArgumentException($"overlay JPEG quality {JpegQuality}: expected 1 to 100");
        if (!(Alpha is >= 0f and <= 1f))
            throw new ArgumentException($"overlay alpha {Alpha}: expected 0 to 1");
    }
}
