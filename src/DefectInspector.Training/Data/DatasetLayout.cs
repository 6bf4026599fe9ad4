namespace DefectInspector.Training.Data;

/// <summary>Tells which layout a dataset path is, or why it is none.</summary>
internal static class DatasetLayout
{
    public const string Expected =
        "a .csv manifest, an MVTec AD folder (train/good/*, test/<type>/*) or an ImageFolder folder (<class>/*.png, *.jpg, ...)";

    /// <param name="fullPath">An absolute path.</param>
    public static DatasetFormat Detect(string fullPath)
    {
        if (File.Exists(fullPath))
        {
            if (string.Equals(Path.GetExtension(fullPath), ".csv", StringComparison.OrdinalIgnoreCase))
                return DatasetFormat.CsvManifest;
            throw new DataProblemException($"dataset '{fullPath}' is a file but not a .csv manifest; expected {Expected}");
        }

        if (!Directory.Exists(fullPath))
            throw new DataProblemException($"dataset '{fullPath}' does not exist; expected {Expected}");
        if (MvtecAdLayout.Matches(fullPath))
            return DatasetFormat.MvtecAd;
        if (ImageFolderLayout.Matches(fullPath))
            return DatasetFormat.ImageFolder;
        throw new DataProblemException($"folder '{fullPath}' matches no dataset layout; expected {Expected}{ManifestHint(fullPath)}");
    }

    /// <summary>Points at a manifest lying in a folder that was passed instead of it (as in the magnetic-tile copy).</summary>
    public static string ManifestHint(string folder)
    {
        var manifests = Directory.EnumerateFiles(folder, "*.csv").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        return manifests.Count == 0 ? "" : $" (the folder holds {string.Join(", ", manifests.Select(m => $"'{m}'"))}: pass the manifest itself)";
    }
}
