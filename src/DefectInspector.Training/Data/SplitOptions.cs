namespace DefectInspector.Training.Data;

/// <summary>How <see cref="DatasetSplitter"/> splits a dataset that does not name its own validation images.</summary>
/// <param name="ValidationFraction">The share of images for validation, strictly between 0 and 1.</param>
/// <param name="Seed">The same seed and the same data give the same split.</param>
/// <param name="GroupBy">Keep each group whole on one side, so that no capture session or part leaks across.</param>
/// <param name="ValidationGroups">
/// Exactly these groups form the validation set (e.g. ["exp4"]); the fraction is then not used.
/// </param>
public sealed record SplitOptions(double ValidationFraction = 0.2, int Seed = 0, bool GroupBy = false, IReadOnlyList<string>? ValidationGroups = null)
{
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (!(ValidationFraction > 0 && ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction,
                $"the validation fraction must lie strictly between 0 and 1 (e.g. 0.2 for a fifth); got {ValidationFraction}");
        if (ValidationGroups is { Count: 0 })
            throw new ArgumentException("validation groups, when given, must name at least one group", nameof(ValidationGroups));
        if (ValidationGroups is not null && ValidationGroups.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("validation groups must not contain an empty name", nameof(ValidationGroups));
    }
}
