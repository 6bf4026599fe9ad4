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
/// <remarks>
/// <see cref="Kinds"/> is the class list of the whole dataset: it always starts with "good", and a subset made by
/// <see cref="Filter"/> or <see cref="SelectGroups"/> keeps it, so class indices stay the ones the model was trained with.
/// </remarks>
public sealed record Dataset(string Source, DatasetFormat Format, IReadOnlyList<LabelledImage> Images, IReadOnlyList<string> Kinds, int Skipped = 0)
{
    public bool HasMasks => Images.Any(i => i.MaskPath is not null);

    public bool HasKinds => Kinds.Count > 2;

    /// <summary>The folder the dataset's paths are relative to: the manifest's folder, or the dataset folder.</summary>
    public string Root => Format == DatasetFormat.CsvManifest
        ? Path.GetDirectoryName(Path.GetFullPath(Source)) ?? Path.GetFullPath(Source)
        : Path.GetFullPath(Source);

    public int GoodCount => Images.Count(i => !i.IsDefect);

    public int DefectCount => Images.Count(i => i.IsDefect);

    /// <summary>The distinct groups of the images, sorted ordinally; empty when no image has one.</summary>
    public IReadOnlyList<string> Groups =>
        Images.Select(i => i.Group).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Throws unless there are both good and defect images. Training needs both; evaluation does not, which is why
    /// reading a dataset does not demand it.
    /// </summary>
    /// <returns>This dataset, to chain after <see cref="DatasetReader.Open"/>.</returns>
    public Dataset RequireBothClasses()
    {
        if (GoodCount == 0)
            throw new DataProblemException($"dataset '{Source}' has no good images ({DefectCount} defect): training needs both good and defect images");
        if (DefectCount == 0)
            throw new DataProblemException($"dataset '{Source}' has no defect images ({GoodCount} good): training needs both good and defect images");
        return this;
    }

    /// <summary>The images that <paramref name="keep"/> accepts, with the same kinds, source and skipped count.</summary>
    public Dataset Filter(Func<LabelledImage, bool> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        return this with { Images = Images.Where(keep).ToList() };
    }

    /// <summary>The images of the named groups (e.g. evaluate on "exp5" only).</summary>
    /// <exception cref="DataProblemException">No group is named, the images carry no groups, or a named group has no images.</exception>
    public Dataset SelectGroups(IReadOnlyList<string> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0)
            throw new DataProblemException($"no groups were named to select from dataset '{Source}'");
        var present = Groups;
        if (present.Count == 0)
            throw new DataProblemException($"dataset '{Source}' has no groups to select from: give the manifest a 'group' column or read it with a group pattern");
        var missing = groups.Where(g => !present.Contains(g, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
            throw new DataProblemException($"dataset '{Source}' has no group {string.Join(", ", missing.Select(g => $"'{g}'"))}; its groups are {string.Join(", ", present)}");
        var wanted = groups.ToHashSet(StringComparer.Ordinal);
        return Filter(i => i.Group is not null && wanted.Contains(i.Group));
    }

    /// <summary>
    /// A lower-case hex SHA-256 of the images' paths relative to <see cref="Root"/>, kinds and file sizes (and their
    /// masks'), for model provenance: it does not change when the dataset folder moves, and does when a file is
    /// added, removed, relabelled or rewritten with another size.
    /// </summary>
    /// <exception cref="DataProblemException">An image or mask no longer exists.</exception>
    public string Fingerprint() => DatasetFingerprint.Compute(this);
}
