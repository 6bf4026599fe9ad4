using DefectInspector.Vision.Imaging;

namespace DefectInspector.Training.Data;

/// <summary>
/// MVTec AD: <c>train/good/*</c>, <c>test/&lt;type&gt;/*</c> and masks <c>ground_truth/&lt;type&gt;/&lt;stem&gt;_mask.png</c>.
/// Images keep the split they lie under ("train" or "test").
/// </summary>
internal static class MvtecAdLayout
{
    private static readonly string[] SplitFolders = ["train", "test"];

    /// <summary>A train or test folder that holds type folders; an ImageFolder class called "train" holds images instead.</summary>
    public static bool Matches(string root)
    {
        var splits = SplitFolders.Select(s => Path.Combine(root, s)).Where(Directory.Exists).ToList();
        return splits.Count > 0 && splits.All(s => ImageFiles.Subfolders(s).Count > 0 && ImageFiles.In(s).Count == 0);
    }

    public static IReadOnlyList<LabelledImage> Read(string root)
    {
        var images = new List<LabelledImage>();
        foreach (var split in SplitFolders)
        {
            var splitFolder = Path.Combine(root, split);
            if (!Directory.Exists(splitFolder))
                continue;
            foreach (var typeFolder in ImageFiles.Subfolders(splitFolder))
                images.AddRange(ReadType(root, split, typeFolder));
        }

        return images;
    }

    private static IEnumerable<LabelledImage> ReadType(string root, string split, string typeFolder)
    {
        var type = Path.GetFileName(typeFolder);
        var files = ImageFiles.In(typeFolder);
        if (files.Count == 0)
            throw new DataProblemException($"type '{type}' (folder '{typeFolder}') has no images; expected {ImageFormats.ExtensionList} files directly in it");

        var kind = string.Equals(type, LabelledImage.GoodKind, StringComparison.OrdinalIgnoreCase) ? LabelledImage.GoodKind : type;
        // MVTec has masks for defect types of the test split only; a copy without ground_truth simply has none.
        var maskFolder = Path.Combine(root, "ground_truth", type);
        var hasMasks = split == "test" && kind != LabelledImage.GoodKind && Directory.Exists(maskFolder);
        return files.Select(file => new LabelledImage(
            file,
            kind,
            hasMasks ? Path.Combine(maskFolder, Path.GetFileNameWithoutExtension(file) + "_mask.png") : null,
            Split: split));
    }
}
