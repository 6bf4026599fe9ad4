namespace DefectInspector.Publish.Contracts;

/// <summary>
/// An operator's decision on a flagged part, for MES: which verdict it answers (<see cref="VerdictId"/>), what the
/// operator decided and who, and the model that flagged it. <see cref="Id"/> is the review's own id; consumers
/// de-duplicate on it (delivery is at-least-once).
/// </summary>
public sealed record ReviewMessage
{
    public string Schema { get; init; } = SchemaVersion.Current;

    public required string Id { get; init; }

    public required string VerdictId { get; init; }

    public required string Site { get; init; }

    public required string Line { get; init; }

    public required string Station { get; init; }

    public required string Camera { get; init; }

    public string? PartId { get; init; }

    public required string FrameRef { get; init; }

    /// <summary>The verdict the operator reviewed: ng or uncertain.</summary>
    public required string Verdict { get; init; }

    public required double DefectScore { get; init; }

    public required string PredictedClass { get; init; }

    /// <summary>confirmed, false-reject or rework (<see cref="Dispositions"/>).</summary>
    public required string Disposition { get; init; }

    /// <summary>The class the part is labelled with for the next fine-tune: the good class for a false reject.</summary>
    public required string Label { get; init; }

    public string? Comment { get; init; }

    /// <summary>The user name the operator logged in with (<c>local</c> on a loopback station without users).</summary>
    public required string Operator { get; init; }

    public required DateTimeOffset DecidedAt { get; init; }

    public required DateTimeOffset ReviewedAt { get; init; }

    public required ModelReference Model { get; init; }

    /// <summary>The review <paramref name="id"/> of <paramref name="verdict"/>: the part's identity and findings as the verdict gave them.</summary>
    public static ReviewMessage Of(VerdictMessage verdict, string id, string disposition, string label, string? comment, string reviewer, DateTimeOffset reviewedAt) => new()
    {
        Schema = verdict.Schema,
        Id = id,
        VerdictId = verdict.Id,
        Site = verdict.Site,
        Line = verdict.Line,
        Station = verdict.Station,
        Camera = verdict.Camera,
        PartId = verdict.PartId,
        FrameRef = verdict.FrameRef,
        Verdict = verdict.Verdict,
        DefectScore = verdict.DefectScore ?? throw new ArgumentException($"verdict {verdict.Id} is an error verdict: nothing was decided to review", nameof(verdict)),
        PredictedClass = verdict.PredictedClass ?? "",
        Disposition = disposition,
        Label = label,
        Comment = comment,
        Operator = reviewer,
        DecidedAt = verdict.DecidedAt,
        ReviewedAt = reviewedAt,
        Model = verdict.Model,
    };
}

/// <summary>What an operator can decide about a flagged part.</summary>
public static class Dispositions
{
    /// <summary>The defect is real: the part is scrapped.</summary>
    public const string Confirmed = "confirmed";

    /// <summary>The part is good: the model was wrong.</summary>
    public const string FalseReject = "false-reject";

    /// <summary>The defect is real and repairable: the part goes to rework.</summary>
    public const string Rework = "rework";

    public static IReadOnlyList<string> All { get; } = [Confirmed, FalseReject, Rework];
}
