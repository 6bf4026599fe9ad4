namespace DefectInspector.Training.Evaluate;

/// <summary>
/// Image decisions against labels at one threshold, defect = positive (score >= threshold => NG).
/// Rates are null where their denominator is zero, so "no defects to miss" never reads as "missed none".
/// </summary>
public sealed record ConfusionCounts(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    public int Defects => TruePositives + FalseNegatives;

    public int Goods => FalsePositives + TrueNegatives;

    /// <summary>Defective parts passed as good: FN / (TP + FN).</summary>
    public double? EscapeRate => Ratio(FalseNegatives, Defects);

    /// <summary>Good parts rejected as NG: FP / (FP + TN).</summary>
    public double? FalseRejectRate => Ratio(FalsePositives, Goods);

    public double? Recall => Ratio(TruePositives, Defects);

    public double? Precision => Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>2TP / (2TP + FP + FN).</summary>
    public double? F1 => Ratio(2 * TruePositives, 2 * TruePositives + FalsePositives + FalseNegatives);

    private static double? Ratio(int numerator, int denominator) => denominator == 0 ? null : (double)numerator / denominator;
}
