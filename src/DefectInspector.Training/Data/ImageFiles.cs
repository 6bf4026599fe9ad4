using DefectInspector.Vision.Imaging;

namespace DefectInspector.Training.Data;

/// <summary>Folder listings in an order that does not depend on the file system, so reads are reproducible.</summary>
internal static class ImageFiles
{
    /// <summary>The image files directly in <paramref name="folder"/> (by extension), sorted ordinally.</summary>
    public static IReadOnlyList<string> In(string folder) =>
        Directory.EnumerateFiles(folder)
            .Where(ImageFormats.IsSupported)
            .Where(f => !IsHidden(f))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The subfolders of <paramref name="folder"/>, hidden ones (".git", ".ipynb_checkpoints") left out, sorted ordinally.</summary>
    public static IReadOnlyList<string> Subfolders(string folder) =>
        Directory.EnumerateDirectories(folder)
            .Where(d => !IsHidden(d))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');
}
