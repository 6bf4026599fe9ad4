using DefectInspector.Vision.Imaging;

namespace DefectInspector.Training.Data;

/// <summary>ImageFolder: <c>&lt;class&gt;/*.png</c> and the like, class "good" (any case) defect-free, no masks.</summary>
internal static class ImageFolderLayout
{
    /// <summary>Some subfolder holds images itself; a folder whose subfolders all nest deeper is no ImageFolder.</summary>
    public static bool Matches(string root) => ImageFiles.Subfolders(root).Any(f => ImageFiles.In(f).Count > 0);

    public static IReadOnlyList<LabelledImage> Read(string root)
    {
        var images = new List<LabelledImage>();
        foreach (var classFolder in ImageFiles.Subfolders(root))
        {
            var name = Path.GetFileName(classFolder);
            var files = ImageFiles.In(classFolder);
            if (files.Count == 0)
                throw new DataProblemException($"class '{name}' (folder '{classFolder}') has no images; expected {ImageFormats.ExtensionList} files directly in it{NestedHint(classFolder)}");
            var kind = string.Equals(name, LabelledImage.GoodKind, StringComparison.OrdinalIgnoreCase) ? LabelledImage.GoodKind : name;
            images.AddRange(files.Select(f => new LabelledImage(f, kind)));
        }

        return images;
    }

    private static string NestedHint(string classFolder)
    {
        var nested = ImageFiles.Subfolders(classFolder);
        return nested.Count == 0 ? "" : $" (images in its subfolders, such as '{Path.GetFileName(nested[0])}', are not read)";
    }
}
