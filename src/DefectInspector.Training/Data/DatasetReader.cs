using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DefectInspector.Training.Data;

/// <summary>Reads a dataset in whichever layout it is: a CSV manifest, an MVTec AD folder or an ImageFolder folder.</summary>
public static class DatasetReader
{
    /// <summary>
    /// Reads the dataset at <paramref name="path"/> (a folder, or a .csv manifest). Unusable images are skipped with a
    /// warning on <paramref name="log"/> and counted in <see cref="Dataset.Skipped"/>, unless
    /// <see cref="DatasetReadOptions.Strict"/>. It does not demand both good and defect images: see
    /// <see cref="Dataset.RequireBothClasses"/>.
    /// </summary>
    /// <exception cref="DataProblemException">The dataset cannot be used; the message names the file or folder.</exception>
    /// <exception cref="ArgumentException">The group pattern is not a regular expression with a capture group.</exception>
    public static Dataset Open(string path, DatasetReadOptions options, ILogger? log = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(options);
        var groupPattern = GroupPattern.Create(options.GroupPattern);

        var source = Path.GetFullPath(path);
        var format = DatasetLayout.Detect(source);
        var images = format switch
        {
            DatasetFormat.MvtecAd => MvtecAdLayout.Read(source),
            DatasetFormat.ImageFolder => ImageFolderLayout.Read(source),
            DatasetFormat.CsvManifest => CsvManifestLayout.Read(source),
            _ => throw new InvalidOperationException($"no reader for format {format}"),
        };
        if (images.Count == 0)
            throw new DataProblemException($"dataset '{source}' has no images; expected {DatasetLayout.Expected}");

        // Groups before decoding: a pattern that misses is a user error worth reporting before a long check.
        if (groupPattern is not null)
            images = groupPattern.Apply(images);

        var (kept, skipped) = new ImageChecker(options, log ?? NullLogger.Instance).Check(images);
        if (kept.Count == 0)
            throw new DataProblemException($"dataset '{source}' has no usable images: all {skipped} were skipped as unreadable");
        return new Dataset(source, format, kept, DatasetKinds.Of(kept), skipped);
    }
}
