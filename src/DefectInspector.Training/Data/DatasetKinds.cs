namespace DefectInspector.Training.Data;

/// <summary>The class list of a dataset: "good" first, then the defect kinds in ordinal order.</summary>
internal static class DatasetKinds
{
    // "good" is listed even when no image is good, so that class index 0 means good in every dataset and a
    // defect-only evaluation set maps onto the classes of the model it evaluates.
    public static IReadOnlyList<string> Of(IEnumerable<LabelledImage> images) =>
        [LabelledImage.GoodKind, .. images.Where(i => i.IsDefect).Select(i => i.Kind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
}
