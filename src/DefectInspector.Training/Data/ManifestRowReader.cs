using CsvHelper;

namespace DefectInspector.Training.Data;

/// <summary>Turns one manifest row into a <see cref="LabelledImage"/>, or says which row is wrong and how.</summary>
internal sealed class ManifestRowReader(string manifest, ManifestColumns columns)
{
    /// <summary>The splits a manifest may name; <see cref="DatasetSplitter"/> reads them.</summary>
    public static readonly IReadOnlyList<string> KnownSplits = ["train", "val", "validation", "test"];

    private readonly string folder = Path.GetDirectoryName(manifest) ?? Path.GetPathRoot(manifest) ?? "/";

    /// <summary>A data row (1-based, header not counted) and the line it starts on, as an editor shows it.</summary>
    public readonly record struct Position(long Row, long Line)
    {
        public override string ToString() => $"row {Row} (line {Line})";
    }

    public LabelledImage Read(CsvReader reader, Position row)
    {
        var image = Cell(reader, columns.Image) ?? throw Problem(row, "the image cell is empty; expected a path relative to the manifest's folder");
        var label = Cell(reader, columns.Label) ?? throw Problem(row, "the label cell is empty; expected good, defect or a class name");
        var kind = KindOf(label, Cell(reader, columns.Class), row);
        var mask = Cell(reader, columns.Mask);
        return new LabelledImage(
            Resolve(image, "image", row),
            kind,
            mask is null ? null : Resolve(mask, "mask", row),
            Cell(reader, columns.Group),
            SplitOf(Cell(reader, columns.Split), row));
    }

    private static string? Cell(CsvReader reader, int? column)
    {
        if (column is not { } index)
            return null;
        var value = reader.GetString(index).Trim();
        return value.Length == 0 ? null : value;
    }

    // "good" wins over any class (magnetic tile labels its good images class MT_Free); otherwise the class names the
    // defect kind, and a label that is itself a class name must agree with it.
    private string KindOf(string label, string? cls, Position row)
    {
        if (IsGood(label))
            return LabelledImage.GoodKind;
        var labelIsKind = !string.Equals(label, "defect", StringComparison.OrdinalIgnoreCase);
        if (cls is null)
            return labelIsKind ? label : "defect";
        if (IsGood(cls))
            throw Problem(row, $"label '{label}' says defect but class '{cls}' says good; expected them to agree");
        if (labelIsKind && !string.Equals(label, cls, StringComparison.Ordinal))
            throw Problem(row, $"label '{label}' and class '{cls}' name different kinds; expected label good or defect with a class, or a label that is the class");
        return cls;
    }

    private static bool IsGood(string value) => string.Equals(value, LabelledImage.GoodKind, StringComparison.OrdinalIgnoreCase);

    private string? SplitOf(string? split, Position row)
    {
        if (split is null)
            return null;
        var normalised = split.ToLowerInvariant();
        return KnownSplits.Contains(normalised)
            ? normalised
            : throw Problem(row, $"split '{split}' is not one of {string.Join(", ", KnownSplits)}");
    }

    // Manifests written on Windows use '\'; a '\' that is part of a Linux file name is not worth supporting.
    private string Resolve(string cell, string column, Position row)
    {
        string full;
        try
        {
            full = Path.GetFullPath(Path.Combine(folder, cell.Replace('\\', '/')));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw Problem(row, $"{column} path '{cell}' is not a valid path ({e.Message})");
        }

        var inside = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!full.StartsWith(inside, comparison))
            throw Problem(row, $"{column} path '{cell}' leads outside the manifest's folder '{folder}' (to '{full}'); expected a path inside it");
        return full;
    }

    private DataProblemException Problem(Position row, string what) => new($"manifest '{manifest}' {row}: {what}");
}
