namespace DefectInspector.Training.Evaluate;

/// <summary>
/// How one defect kind fares at a threshold: <see cref="Detected"/> of <see cref="Images"/> scored NG.
/// <see cref="AurocVersusGood"/> ranks this kind's images against all good images (null without good images).
/// </summary>
public sealed record KindMetrics(string Kind, int Images, int Detected, double Recall, double EscapeRate, double MeanScore, double? AurocVersusGood);
