namespace DefectInspector.Training.Evaluate;

/// <summary>
/// One ROC point: the rates when every score >= <see cref="Threshold"/> is NG. A null threshold is the origin,
/// "above every score" (nothing flagged), kept as null rather than infinity so the point survives JSON.
/// </summary>
public sealed record RocPoint(double FalsePositiveRate, double TruePositiveRate, float? Threshold);

/// <summary>One precision-recall point: every score >= <see cref="Threshold"/> is NG.</summary>
public sealed record PrPoint(double Recall, double Precision, float Threshold);
