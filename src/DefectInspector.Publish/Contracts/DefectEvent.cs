using System.Text.Json;

namespace DefectInspector.Publish.Contracts;

/// <summary>
/// The MES event for a part that needs action (NG, uncertain, or error: not inspected): the verdict's identity and
/// findings without the per-stage detail. <see cref="Id"/> is the verdict's id.
/// </summary>
public sealed record DefectEvent
{
    public string Schema { get; init; } = SchemaVersion.Current;

    public required string Id { get; init; }

    public required string Site { get; init; }

    public required string Line { get; init; }

    public required string Station { get; init; }

    public required string Camera { get; init; }

    public string? PartId { get; init; }

    public string? CommandId { get; init; }

    public JsonElement? Context { get; init; }

    public required string FrameRef { get; init; }

    public required DateTimeOffset CapturedAt { get; init; }

    public required DateTimeOffset DecidedAt { get; init; }

    public required string Verdict { get; init; }

    public required string ResultCode { get; init; }

    public required int ResultNumber { get; init; }

    public string? Error { get; init; }

    public double? DefectScore { get; init; }

    public string? PredictedClass { get; init; }

    public string? DefectCode { get; init; }

    public required IReadOnlyList<RegionMessage> Regions { get; init; }

    public required ModelReference Model { get; init; }

    public required string ConfigHash { get; init; }

    public SnapshotReference? Snapshot { get; init; }

    /// <summary>The event of a decided verdict: its identity and findings (callers send it for parts that are not OK).</summary>
    public static DefectEvent From(VerdictMessage verdict) => new()
    {
        Schema = verdict.Schema,
        Id = verdict.Id,
        Site = verdict.Site,
        Line = verdict.Line,
        Station = verdict.Station,
        Camera = verdict.Camera,
        PartId = verdict.PartId,
        CommandId = verdict.CommandId,
        Context = verdict.Context,
        FrameRef = verdict.FrameRef,
        CapturedAt = verdict.CapturedAt,
        DecidedAt = verdict.DecidedAt,
        Verdict = verdict.Verdict,
        ResultCode = verdict.ResultCode,
        ResultNumber = verdict.ResultNumber,
        Error = verdict.Error,
        DefectScore = verdict.DefectScore,
        PredictedClass = verdict.PredictedClass,
        DefectCode = verdict.DefectCode,
        Regions = verdict.Regions,
        Model = verdict.Model,
        ConfigHash = verdict.ConfigHash,
        Snapshot = verdict.Snapshot,
    };
}
