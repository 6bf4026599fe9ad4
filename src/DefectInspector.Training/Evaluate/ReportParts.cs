namespace DefectInspector.Training.Evaluate;

/// <summary>What was evaluated: the model (name and content hash, e.g. "sha256:..."), on which dataset, with which maps.</summary>
public sealed record ReportSubject(string ModelName, string? ModelHash, string Dataset, string? Explainer = null);

/// <summary>How many images the report covers.</summary>
public sealed record ImageCounts(int Images, int Defective, int Good);

/// <summary>
/// Image-level results. AUROC and average precision are null when the images lack a class they need;
/// <see cref="Confusion"/> is at the report's decision threshold, and <see cref="UncertainImages"/> fall within its
/// uncertain margin (|score - threshold| &lt;= margin, none when the margin is 0).
/// </summary>
public sealed record ImageLevelSummary(double? Auroc, double? AveragePrecision, ConfusionCounts Confusion, int UncertainImages);

/// <summary>
/// An image shown in a gallery. <see cref="Misjudged"/>: a defective image scored below the threshold (escaped), a
/// good image at or above it (falsely rejected), or, in the pointing gallery, a map whose peak lies
/// <see cref="PeakDistance"/> frame pixels from the defect, beyond the pointing radius.
/// </summary>
public sealed record GalleryEntry(string Path, string Kind, float Score, bool Misjudged, double? PeakDistance = null);

/// <summary><see cref="GalleryCount"/> images in each gallery (worst misses, worst false rejects, worst pointing).</summary>
public sealed record ReportOptions(int GalleryCount = 8, LocalisationOptions? Localisation = null)
{
    public void Validate()
    {
        if (GalleryCount < 0)
            throw new ArgumentException($"gallery size {GalleryCount}: expected 0 or more images");
        Localisation?.Validate();
    }
}

/// <summary>Where <see cref="EvaluationReport.Write"/> put the report.</summary>
public sealed record ReportFiles(string Json, string Html);
