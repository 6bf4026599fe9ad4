using System.Text.Json;

namespace DefectInspector.Publish.Contracts;

/// <summary>
/// One frame's outcome: what the line acts on and what MES stores. Schema: docs/schema/verdict.schema.json, versioned
/// by <see cref="SchemaVersion"/>. A triggered part that could not be inspected gets one too: <see cref="Verdict"/>
/// <c>error</c>, with <see cref="ResultCode"/> saying why and no findings.
/// </summary>
public sealed record VerdictMessage
{
    public string Schema { get; init; } = SchemaVersion.Current;

    /// <summary>Unique per verdict across a fleet (UUIDv7: time-ordered); consumers de-duplicate on it.</summary>
    public required string Id { get; init; }

    public required string Site { get; init; }

    public required string Line { get; init; }

    public required string Station { get; init; }

    public required string Camera { get; init; }

    /// <summary>The part id a trigger command carried; null for continuous capture.</summary>
    public string? PartId { get; init; }

    /// <summary>The trigger's commandId, when it had one.</summary>
    public string? CommandId { get; init; }

    /// <summary>The trigger's context object, verbatim.</summary>
    public JsonElement? Context { get; init; }

    /// <summary>The file name for folder sources, the frame index for streams.</summary>
    public required string FrameRef { get; init; }

    public required DateTimeOffset CapturedAt { get; init; }

    public required DateTimeOffset DecidedAt { get; init; }

    /// <summary>ok, ng, uncertain or error (<see cref="Verdicts"/>).</summary>
    public required string Verdict { get; init; }

    /// <summary>The verdict for a decided part, why it was not inspected for an error (<see cref="ResultCodes"/>).</summary>
    public required string ResultCode { get; init; }

    public required int ResultNumber { get; init; }

    /// <summary>An error verdict's reason, for people.</summary>
    public string? Error { get; init; }

    /// <summary>Probability that the part is not good; null for an error verdict (as are the other findings).</summary>
    public double? DefectScore { get; init; }

    public string? PredictedClass { get; init; }

    /// <summary>The plant's code for <see cref="PredictedClass"/> (Model:DefectCodes), when one is configured.</summary>
    public string? DefectCode { get; init; }

    public IReadOnlyDictionary<string, double>? Probabilities { get; init; }

    /// <summary>The defect score at and above which a part is NG.</summary>
    public required double Threshold { get; init; }

    /// <summary>Scores within this distance of <see cref="Threshold"/> are uncertain.</summary>
    public required double UncertainMargin { get; init; }

    /// <summary>Size of the inspected image (after the camera's region of interest), which region boxes refer to.</summary>
    public int? Width { get; init; }

    public int? Height { get; init; }

    /// <summary>Suspected defect regions, hottest first; the same shape as `explain --json`.</summary>
    public required IReadOnlyList<RegionMessage> Regions { get; init; }

    public required ModelReference Model { get; init; }

    /// <summary>The station descriptor's hash (the retained <c>config</c> message) in force when the part was decided.</summary>
    public required string ConfigHash { get; init; }

    /// <summary>The explainer that made the heatmap (cam, gradcam, ...) and its layer.</summary>
    public required string Method { get; init; }

    public required string Layer { get; init; }

    /// <summary>Milliseconds per stage: queue, preprocess, inference (forward + map), regions, render, total.</summary>
    public required IReadOnlyDictionary<string, double> TimingsMs { get; init; }

    /// <summary>Where the heatmap snapshot was published; null when none was (OK parts by default).</summary>
    public SnapshotReference? Snapshot { get; init; }
}

public static class Verdicts
{
    public const string Ok = "ok";
    public const string Ng = "ng";
    public const string Uncertain = "uncertain";

    /// <summary>A triggered part that could not be inspected; the result code says why.</summary>
    public const string Error = "error";
}
