using CsvHelper;

namespace DefectInspector.Training.Data;

/// <summary>
/// A CSV manifest with a header: <c>image</c> and <c>label</c> required, <c>mask</c>, <c>class</c>, <c>split</c> and
/// <c>group</c> optional (header names match ignoring case), paths relative to the manifest's folder.
/// </summary>
internal static class CsvManifestLayout
{
    // RFC 4180 with a fixed comma: guessing the separator could misread a manifest whose paths contain ';' or '|'.
    // Malformed quoting and ragged rows are errors, not silently repaired, since a shifted column relabels an image.
    private static readonly CsvReaderOptions Options = CsvReaderOptions.Default with
    {
        Separator = ',',
        HasHeader = true,
        MalformedData = CsvMalformedDataHandling.Throw,
        FieldCountMismatch = CsvFieldCountHandling.Throw,
        TrackLineNumbers = true,
    };

    public static IReadOnlyList<LabelledImage> Read(string manifest)
    {
        try
        {
            using var reader = CsvReader.FromFile(manifest, Options);
            return ReadRows(manifest, reader);
        }
        catch (CsvFormatException e)
        {
            throw new DataProblemException($"manifest '{manifest}' is not valid CSV: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataProblemException($"manifest '{manifest}' cannot be read: {e.Message}", e);
        }
    }

    private static List<LabelledImage> ReadRows(string manifest, CsvReader reader)
    {
        var columns = ManifestColumns.Find(reader, manifest);
        var rowReader = new ManifestRowReader(manifest, columns);
        var images = new List<LabelledImage>();
        var firstRowOf = new Dictionary<string, long>(PathComparer);
        while (reader.Read())
        {
            var row = new ManifestRowReader.Position(reader.RowNumber, reader.LineNumber);
            var image = rowReader.Read(reader, row);
            // A repeated image would be counted twice and could land on both sides of a split.
            if (!firstRowOf.TryAdd(image.Path, row.Row))
                throw new DataProblemException($"manifest '{manifest}' {row}: image '{image.Path}' is listed again (first on row {firstRowOf[image.Path]}); expected each image once");
            images.Add(image);
        }

        if (images.Count == 0)
            throw new DataProblemException($"manifest '{manifest}' has no rows; expected a header and one row per image");
        return images;
    }

    private static StringComparer PathComparer => OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
}
