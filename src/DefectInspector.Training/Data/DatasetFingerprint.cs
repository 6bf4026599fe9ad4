using System.Security.Cryptography;
using System.Text;

namespace DefectInspector.Training.Data;

/// <summary>The content hash behind <see cref="Dataset.Fingerprint"/>.</summary>
internal static class DatasetFingerprint
{
    public static string Compute(Dataset data)
    {
        var root = data.Root;
        // One line per image, sorted, so neither the listing order of the file system nor the manifest's row order
        // changes the hash; '/' separators so the same data hashes alike on Windows.
        var lines = data.Images
            .Select(image => string.Join('\t',
                Relative(root, image.Path), image.Kind, SizeOf(image.Path),
                image.MaskPath is null ? "" : Relative(root, image.MaskPath),
                image.MaskPath is null ? "" : SizeOf(image.MaskPath)))
            .Order(StringComparer.Ordinal);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var line in lines)
            hash.AppendData(Encoding.UTF8.GetBytes(line + "\n"));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string Relative(string root, string path) =>
        Path.GetRelativePath(root, Path.GetFullPath(path)).Replace('\\', '/');

    private static string SizeOf(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new DataProblemException($"cannot fingerprint the dataset: '{path}' no longer exists");
        return file.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
