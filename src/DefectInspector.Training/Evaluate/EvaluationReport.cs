using System.Text.Json;
using DefectInspector.Core.Decision;
using DefectInspector.Core.Regions;

namespace DefectInspector.Training.Evaluate;

/// <summary>
/// Everything one evaluation measured, written as <c>report.json</c> (camelCase, for scripts and model comparison)
/// and <c>report.html</c> (self-contained, for people). Metrics a class-less image set cannot define are null.
/// </summary>
public sealed record EvaluationReport
{
    public const int CurrentSchema = 1;
    public const string JsonFileName = "report.json";
    public const string HtmlFileName = "report.html";

    public int Schema { get; init; } = CurrentSchema;

    public required ReportSubject Subject { get; init; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public required DecisionThresholds Decision { get; init; }

    /// <summary>The region settings the outcomes' regions were extracted with, when the caller states them.</summary>
    public RegionSettings? Regions { get; init; }

    public required ImageCounts Counts { get; init; }

    public required ImageLevelSummary ImageLevel { get; init; }

    public required IReadOnlyList<KindMetrics> PerKind { get; init; }

    /// <summary>Null when no image has a frame heatmap.</summary>
    public LocalisationSummary? Localisation { get; init; }

    /// <summary>Empty when the images lack defective or good ones.</summary>
    public required IReadOnlyList<RocPoint> Roc { get; init; }

    /// <summary>Empty when the images lack defective ones.</summary>
    public required IReadOnlyList<PrPoint> PrecisionRecall { get; init; }

    /// <summary>The lowest-scoring defective images, lowest first, missed or not.</summary>
    public required IReadOnlyList<GalleryEntry> WorstMisses { get; init; }

    /// <summary>The highest-scoring good images, highest first, rejected or not.</summary>
    public required IReadOnlyList<GalleryEntry> WorstFalseRejects { get; init; }

    /// <summary>
    /// The defective images with a mask whose map peaks farthest from the defect, farthest first, hits or not: where
    /// the map looks when it does not look at the defect. Empty in reports written before it existed.
    /// </summary>
    public IReadOnlyList<GalleryEntry> WorstPointing { get; init; } = [];

    /// <summary>Deletion, insertion and ROAD on a sample of the defective images; null when not measured.</summary>
    public Faithfulness.FaithfulnessSummary? Faithfulness { get; init; }

    public static EvaluationReport Create(IReadOnlyList<ImageOutcome> outcomes, ReportSubject subject, DecisionThresholds decision,
        RegionSettings? regions = null, ReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(decision);
        decision.Validate();
        options ??= new ReportOptions();
        options.Validate();

        var scores = outcomes.Select(o => o.DefectScore).ToArray();
        var labels = outcomes.Select(o => o.IsDefect).ToArray();
        var defective = labels.Count(l => l);
        var good = labels.Length - defective;
        var bothClasses = defective > 0 && good > 0;
        var t = decision.Threshold;

        return new EvaluationReport
        {
            Subject = subject,
            Decision = decision,
            Regions = regions,
            Counts = new ImageCounts(outcomes.Count, defective, good),
            ImageLevel = new ImageLevelSummary(
                bothClasses ? ImageMetrics.Auroc(scores, labels) : null,
                defective > 0 ? ImageMetrics.AveragePrecision(scores, labels) : null,
                ImageMetrics.Confusion(scores, labels, t),
                scores.Count(s => decision.Decide(s) == Verdict.Uncertain)),
            PerKind = ImageMetrics.PerKind(outcomes, t),
            Localisation = outcomes.Any(o => o.FrameHeat is not null) ? LocalisationMetrics.Compute(outcomes, options.Localisation) : null,
            Roc = bothClasses ? ImageMetrics.RocCurve(scores, labels) : [],
            PrecisionRecall = defective > 0 ? ImageMetrics.PrCurve(scores, labels) : [],
            WorstMisses = outcomes.Where(o => o.IsDefect)
                .OrderBy(o => o.DefectScore).ThenBy(o => o.Path, StringComparer.Ordinal)
                .Take(options.GalleryCount)
                .Select(o => new GalleryEntry(o.Path, o.Kind, o.DefectScore, o.DefectScore < t))
                .ToList(),
            WorstFalseRejects = outcomes.Where(o => !o.IsDefect)
                .OrderByDescending(o => o.DefectScore).ThenBy(o => o.Path, StringComparer.Ordinal)
                .Take(options.GalleryCount)
                .Select(o => new GalleryEntry(o.Path, o.Kind, o.DefectScore, o.DefectScore >= t))
                .ToList(),
            WorstPointing = FarthestPeaks(outcomes, options),
        };
    }

    private static List<GalleryEntry> FarthestPeaks(IReadOnlyList<ImageOutcome> outcomes, ReportOptions options)
    {
        int radius = (options.Localisation ?? new LocalisationOptions()).PointingRadius;
        return outcomes.Where(o => o.IsDefect && o.FrameHeat is not null && o.Mask is { } mask && mask.Contains(true))
            .Select(o => (Outcome: o, Distance: LocalisationMetrics.PeakDistance(o.FrameHeat!, o.Mask!)))
            .OrderByDescending(x => x.Distance).ThenBy(x => x.Outcome.Path, StringComparer.Ordinal)
            .Take(options.GalleryCount)
            .Select(x => new GalleryEntry(x.Outcome.Path, x.Outcome.Kind, x.Outcome.DefectScore, x.Distance > radius, Math.Round(x.Distance, 1)))
            .ToList();
    }

    /// <summary>
    /// Writes <c>report.json</c> and <c>report.html</c> into <paramref name="dir"/> (created if missing).
    /// <paramref name="outcomes"/> are those the report was created from; <paramref name="renderOverlay"/> is called
    /// once per gallery image and returns its overlay as JPEG (or PNG) bytes. Its exceptions propagate.
    /// </summary>
    public ReportFiles Write(string dir, IReadOnlyList<ImageOutcome> outcomes, Func<ImageOutcome, byte[]> renderOverlay)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dir);
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(renderOverlay);

        var byPath = new Dictionary<string, ImageOutcome>(StringComparer.Ordinal);
        foreach (var o in outcomes)
            byPath.TryAdd(o.Path, o);
        byte[] Overlay(GalleryEntry e) => byPath.TryGetValue(e.Path, out var o)
            ? renderOverlay(o)
            : throw new ArgumentException($"gallery image {e.Path} is not among the outcomes: expected the outcomes this report was created from", nameof(outcomes));

        var html = ReportHtml.Render(this, Overlay);
        Directory.CreateDirectory(dir);
        var files = new ReportFiles(Path.Combine(dir, JsonFileName), Path.Combine(dir, HtmlFileName));
        File.WriteAllText(files.Json, ToJson());
        File.WriteAllText(files.Html, html);
        return files;
    }

    public string ToJson() => JsonSerializer.Serialize(this, ReportJsonContext.Default.EvaluationReport);

    public static EvaluationReport FromJson(string json) =>
        JsonSerializer.Deserialize(json, ReportJsonContext.Default.EvaluationReport)
        ?? throw new InvalidDataException("evaluation report JSON is null: expected a report object");
}
