using DefectInspector.Core.Decision;
using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Host.Capture;

namespace DefectInspector.Host.Inspect;

/// <summary>
/// A decided frame: the prediction, the verdict, the heatmap and the regions, with the stage timings so far.
/// Owns the frame until it is rendered.
/// </summary>
internal sealed record Inspection(
    Frame Frame,
    Prediction Prediction,
    Verdict Verdict,
    Heatmap Heatmap,
    IReadOnlyList<Region> Regions,
    DateTimeOffset DecidedAt,
    IReadOnlyDictionary<string, double> TimingsMs);
