namespace DefectInspector.Training.Data;

/// <summary>
/// One labelled part image. <see cref="Kind"/> is the defect kind (e.g. "crack") or <see cref="GoodKind"/>;
/// <see cref="MaskPath"/> marks defect pixels (255) when the dataset has masks; <see cref="Group"/> ties images that
/// must stay on the same side of a split (a capture session, a part); <see cref="Split"/> is a split the data names.
/// </summary>
public sealed record LabelledImage(string Path, string Kind, string? MaskPath = null, string? Group = null, string? Split = null)
{
    public const string GoodKind = "good";

    public bool IsDefect => !string.Equals(Kind, GoodKind, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Which layout a dataset folder or file was read as.</summary>
public enum DatasetFormat
{
    MvtecAd,
    ImageFolder,
    CsvManifest,
}

/// <summary>
/// The images of a dataset. <see cref="Kinds"/> lists "good" first, then the defect kinds in a stable order;
/// <see cref="Skipped"/> counts images left out with a warning (unreadable files when not strict).
/// </summary>
public sealed record Dataset(string Source, DatasetFormat Format, IReadOnlyList<LabelledImage> Images, IReadOnlyList<string> Kinds, int Skipped = 0)
{
    public bool HasMasks => Images.Any(i => i.MaskPath is not null);

    public bool HasKinds => Kinds.Count > 2;
}
