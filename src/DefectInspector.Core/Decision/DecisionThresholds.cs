namespace DefectInspector.Core.Decision;

/// <summary>
/// The decision on the defect score (probability that the part is not good): at or above <see cref="Threshold"/>
/// the part is NG; within <see cref="UncertainMargin"/> either side of it the part goes to an operator.
/// </summary>
public sealed record DecisionThresholds(float Threshold = 0.5f, float UncertainMargin = 0f)
{
    /// <summary>The verdict on one part's defect score.</summary>
    public Verdict Decide(float defectScore) =>
        UncertainMargin > 0 && Math.Abs(defectScore - Threshold) <= UncertainMargin ? Verdict.Uncertain
        : defectScore >= Threshold ? Verdict.Ng
        : Verdict.Ok;

    public void Validate()
    {
        if (Threshold is <= 0f or >= 1f || !float.IsFinite(Threshold))
            throw new ArgumentException($"decision threshold {Threshold}: expected a probability in (0, 1)");
        if (UncertainMargin < 0f || UncertainMargin >= 0.5f || !float.IsFinite(UncertainMargin))
            throw new ArgumentException($"decision uncertain margin {UncertainMargin}: expected a value in [0, 0.5)");
    }
}

/// <summary>What the line does with a part: pass it, reject it, or ask an operator.</summary>
public enum Verdict
{
    Ok,
    Ng,
    Uncertain,
}

public static class VerdictRules
{
    /// <summary>
    /// Whether a part with this verdict gets defect regions: every part the line does not pass, so each reject and each
    /// part sent to an operator is explained. The daemon and the evaluation both ask here, so they count alike.
    /// </summary>
    public static bool GetsRegions(this Verdict verdict) => verdict != Verdict.Ok;
}
