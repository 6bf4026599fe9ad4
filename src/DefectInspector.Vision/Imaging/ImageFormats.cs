namespace DefectInspector.Vision.Imaging;

/// <summary>The image file types the inspector accepts, by extension.</summary>
public static class ImageFormats
{
    /// <summary>Lower-case extensions with the leading dot.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];

    /// <summary>For messages: ".png, .jpg, .jpeg, .bmp, .tif, .tiff".</summary>
    public static string ExtensionList { get; } = string.Join(", ", Extensions);

    public static bool IsSupported(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);
}
