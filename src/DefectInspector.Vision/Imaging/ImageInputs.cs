namespace DefectInspector.Vision.Imaging;

/// <summary>The image files found for a set of inputs, and one message for each input that yielded none.</summary>
public sealed record ImageInputList(IReadOnlyList<string> Files, IReadOnlyList<string> Errors);

/// <summary>Turns command-line style inputs (files and folders) into the list of image files to inspect.</summary>
public static class ImageInputs
{
    /// <summary>
    /// Files are kept in the order given (if their extension is supported); a folder contributes its own image
    /// files (not sub-folders), sorted by name so runs are repeatable. A bad input is reported and skipped so the
    /// others still run. The files themselves are not opened here: <see cref="ImageReader"/> reports bad content.
    /// </summary>
    public static ImageInputList Expand(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<string>();
        var errors = new List<string>();
        foreach (var path in paths)
        {
            if (string.IsNullOrWhiteSpace(path))
                errors.Add("input '': expected a file or folder path");
            else if (Directory.Exists(path))
                AddFolder(path, files, errors);
            else if (!File.Exists(path))
                errors.Add($"input '{path}': no such file or folder");
            else if (!ImageFormats.IsSupported(path))
                errors.Add($"input '{path}': unsupported extension '{Path.GetExtension(path)}', expected one of {ImageFormats.ExtensionList}");
            else
                files.Add(path);
        }

        return new ImageInputList(files, errors);
    }

    private static void AddFolder(string folder, List<string> files, List<string> errors)
    {
        string[] found;
        try
        {
            found = Directory.GetFiles(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"input folder '{folder}': cannot be listed ({e.Message})");
            return;
        }

        // Ordinal, so the order does not depend on the host's culture.
        var images = found.Where(ImageFormats.IsSupported).Order(StringComparer.Ordinal).ToList();
        if (images.Count == 0)
            errors.Add($"input folder '{folder}': contains no images, expected files ending in {ImageFormats.ExtensionList}");
        files.AddRange(images);
    }
}
