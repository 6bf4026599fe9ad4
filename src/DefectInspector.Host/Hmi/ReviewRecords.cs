using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// An NG or uncertain part as the pipeline hands it to the review queue: its verdict as published, the model's good
/// class (the label of a false reject), the frame as lossless PNG (training data) and the heatmap overlay, if drawn.
/// </summary>
internal sealed record FlaggedPart(VerdictMessage Verdict, string GoodClass, byte[] Png, byte[]? Overlay);

/// <summary>A part in the review store; <see cref="State"/> is queued, reviewed or expired (left the queue unreviewed).</summary>
internal sealed record StoredPart(VerdictMessage Verdict, string GoodClass, string State, string ImageFile, string? OverlayFile, ReviewRecord? Review);

/// <summary>An operator's decision on a part, as stored; <see cref="Exported"/> once it is in the outbox and the feedback folder.</summary>
internal sealed record ReviewRecord(string Id, string PartId, string Disposition, string Label, string? Comment, string User, DateTimeOffset ReviewedAt, bool Exported);

/// <summary>One line of the audit trail: who did what, when, to which part, under which model.</summary>
internal sealed record AuditEntry(DateTimeOffset At, string User, string Action, string? Part, string? Detail, string? Model);

/// <summary>What the history search filters on; null = any. Times are the parts' decision times.</summary>
internal sealed record HistoryQuery(DateTimeOffset? From, DateTimeOffset? To, string? Camera, string? Verdict, string? Disposition, int Limit = 200);

/// <summary>A change of the review queue the live page shows at once.</summary>
internal sealed record ReviewChange(string Kind, string PartId)
{
    public const string Flagged = "flagged";
    public const string Reviewed = "reviewed";
    public const string Expired = "expired";
}

internal static class PartStates
{
    public const string Queued = "queued";
    public const string Reviewed = "reviewed";
    public const string Expired = "expired";
}

/// <summary>A disposition that cannot be taken: the part was reviewed already, left the queue, or is unknown.</summary>
internal sealed class ReviewRefusedException(string message, bool notFound = false) : Exception(message)
{
    public bool NotFound { get; } = notFound;
}

/// <summary>The render stage hands NG and uncertain parts to the review queue; a false reject is labelled <see cref="GoodClass"/>.</summary>
internal sealed record ReviewIntake(string GoodClass);
