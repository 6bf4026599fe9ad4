namespace DefectInspector.Training.Data;

/// <summary>A seeded split that takes the validation fraction from every kind separately.</summary>
internal static class StratifiedSplit
{
    public static (List<LabelledImage> Train, List<LabelledImage> Validation) Split(IReadOnlyList<LabelledImage> pool, double fraction, SplitRandom random)
    {
        var train = new List<LabelledImage>();
        var validation = new List<LabelledImage>();
        // Sorted input and kinds make the split depend on the data and the seed only, not on listing order.
        var byKind = pool.OrderBy(i => i.Path, StringComparer.Ordinal)
            .GroupBy(i => i.Kind, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var kind in byKind)
        {
            var images = kind.ToList();
            random.Shuffle(images);
            var count = ValidationCount(images.Count, fraction);
            validation.AddRange(images.Take(count));
            train.AddRange(images.Skip(count));
        }

        return (train, validation);
    }

    // Every kind with two images or more is validated on at least one and trained on at least one.
    private static int ValidationCount(int images, double fraction) =>
        images < 2 ? 0 : Math.Clamp((int)Math.Round(images * fraction, MidpointRounding.AwayFromZero), 1, images - 1);
}
