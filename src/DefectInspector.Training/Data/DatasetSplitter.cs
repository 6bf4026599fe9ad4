namespace DefectInspector.Training.Data;

/// <summary>Splits a dataset into training and validation images.</summary>
public static class DatasetSplitter
{
    /// <summary>
    /// Uses the split the data names when it names one: "train" images train, "val"/"validation" images validate,
    /// "test" images are left out of both (they are for evaluation). When the data names train and test but no
    /// validation images (MVTec AD), validation is carved out of the "train" images as below.
    /// Otherwise: with <see cref="SplitOptions.ValidationGroups"/> exactly those groups validate; with
    /// <see cref="SplitOptions.GroupBy"/> whole groups are chosen near the fraction; else a stratified split by kind.
    /// Both lists come back sorted by path.
    /// </summary>
    /// <exception cref="ArgumentException">The options are out of range.</exception>
    /// <exception cref="DataProblemException">The data cannot be split as asked (no training images left, missing groups...).</exception>
    public static (IReadOnlyList<LabelledImage> Train, IReadOnlyList<LabelledImage> Validation) Split(Dataset data, SplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var (train, validation) = NamesSplits(data)
            ? NamedSplit(data, options)
            : SplitPool(data, data.Images.ToList(), options);
        if (train.Count == 0)
            throw new DataProblemException($"dataset '{data.Source}' leaves no images to train on after the split ({validation.Count} validation)");
        return (ByPath(train), ByPath(validation));
    }

    /// <summary>Whether the data names its split, checked to be all-or-none and known names.</summary>
    private static bool NamesSplits(Dataset data)
    {
        var named = data.Images.FirstOrDefault(i => i.Split is not null);
        if (named is null)
            return false;
        var unnamed = data.Images.FirstOrDefault(i => i.Split is null);
        if (unnamed is not null)
            throw new DataProblemException($"dataset '{data.Source}': image '{named.Path}' names split '{named.Split}' but image '{unnamed.Path}' names none; expected every image or none to name one");
        var unknown = data.Images.FirstOrDefault(i => !ManifestRowReader.KnownSplits.Contains(i.Split));
        if (unknown is not null)
            throw new DataProblemException($"image '{unknown.Path}' names split '{unknown.Split}'; expected one of {string.Join(", ", ManifestRowReader.KnownSplits)}");
        return true;
    }

    private static (List<LabelledImage>, List<LabelledImage>) NamedSplit(Dataset data, SplitOptions options)
    {
        var train = data.Images.Where(i => i.Split == "train").ToList();
        var validation = data.Images.Where(i => i.Split is "val" or "validation").ToList();
        if (validation.Count == 0)
            return SplitPool(data, train, options);
        if (options.ValidationGroups is not null)
            throw new DataProblemException($"dataset '{data.Source}' names its own validation images ({validation.Count}), so validation groups cannot also be chosen");
        return (train, validation);
    }

    private static (List<LabelledImage>, List<LabelledImage>) SplitPool(Dataset data, List<LabelledImage> pool, SplitOptions options)
    {
        if (pool.Count == 0)
            throw new DataProblemException($"dataset '{data.Source}' has no images to split: its named split has no 'train' images");
        var random = new SplitRandom(options.Seed);
        if (options.ValidationGroups is { } named)
            return ExplicitGroups(data, RequireGroups(data, pool), named);
        if (options.GroupBy)
            return GroupedSplit.Split(RequireGroups(data, pool), options.ValidationFraction, random);
        return StratifiedSplit.Split(pool, options.ValidationFraction, random);
    }

    private static (List<LabelledImage>, List<LabelledImage>) ExplicitGroups(Dataset data, List<LabelledImage> pool, IReadOnlyList<string> named)
    {
        var present = pool.Select(i => i.Group!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var missing = named.Where(g => !present.Contains(g, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
            throw new DataProblemException($"dataset '{data.Source}' has no group {string.Join(", ", missing.Select(g => $"'{g}'"))} to validate on; its groups are {string.Join(", ", present)}");
        var wanted = named.ToHashSet(StringComparer.Ordinal);
        return (pool.Where(i => !wanted.Contains(i.Group!)).ToList(), pool.Where(i => wanted.Contains(i.Group!)).ToList());
    }

    private static List<LabelledImage> RequireGroups(Dataset data, List<LabelledImage> pool)
    {
        var ungrouped = pool.FirstOrDefault(i => i.Group is null);
        if (ungrouped is not null)
            throw new DataProblemException($"dataset '{data.Source}': image '{ungrouped.Path}' has no group, so a grouped split cannot place it; give every image a group (a 'group' column, or a group pattern)");
        return pool;
    }

    private static List<LabelledImage> ByPath(IEnumerable<LabelledImage> images) => images.OrderBy(i => i.Path, StringComparer.Ordinal).ToList();
}
