namespace DefectInspector.Publish.Contracts;

/// <summary>
/// The MES event for a part that needs action (NG or uncertain): the verdict's identity and findings without the
/// per-stage detail. <see cref="Id"/> is the verdict's id.
/// </summary>
public sealed record DefectEvent
{
    public int Schema { get; init; } = VerdictMessage.CurrentSchema;

    public required string Id { get; init; }

    public required string Site { get; init; }

    public required string Line { get; init; }

    public required string Station { get; init; }

    public required string Camera { get; init; }

    public string? PartId { get; init; }

    public required string FrameRef { get; init; }

    public required DateTimeOffset CapturedAt { get; init; }

    public required DateTimeOffset DecidedAt { get; init; }

    public required string Verdict { get; init; }

    public required double DefectScore { get; init; }

    public required string PredictedClass { get; init; }

    public required IReadOnlyList<RegionMessage> Regions { get; init; }

    public required ModelReference Model { get; init; }

    public SnapshotReference? Snapshot { get; init; }

    /// <summary>The event of a decided verdict: its identity and findings (callers send it for NG and uncertain parts).</summary>
    public static DefectEvent From(VerdictMessage verdict) => new()
    {
        Schema = verdict.Schema,
        Id = verdict.Id,
        Site = verdict.Site,
        Line = verdict.Line,
        Station = verdict.Station,
        Camera = verdict.Camera,
        PartId = verdict.PartId,
        FrameRef = verdict.FrameRef,
        CapturedAt = verdict.CapturedAt,
        DecidedAt = verdict.DecidedAt,
        Verdict = verdict.Verdict,
        DefectScore = verdict.DefectScore,
        PredictedClass = verdict.PredictedClass,
        Regions = verdict.Regions,
        Model = verdict.Model,
        Snapshot = verdict.Snapshot,
    };
}

/// <summary>The retained station status; <c>offline</c> is also the Last Will.</summary>
public sealed record StatusMessage
{
    public int Schema { get; init; } = VerdictMessage.CurrentSchema;

    /// <summary>online or offline (<see cref="StationStates"/>).</summary>
    public required string State { get; init; }

    public required string Site { get; init; }

    public required string Line { get; init; }

    public required string Station { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>The product version; null in the Last Will (set before start-up knows more).</summary>
    public string? Version { get; init; }

    public ModelReference? Model { get; init; }

    /// <summary>Per camera: online, offline or degraded.</summary>
    public IReadOnlyDictionary<string, string>? Cameras { get; init; }

    /// <summary>Conditions an operator must act on (<see cref="AlarmCodes"/>); null while there are none.</summary>
    public IReadOnlyList<AlarmMessage>? Alarms { get; init; }
}

/// <summary>One raised alarm of the station: what, since when, and what it means for the line.</summary>
public sealed record AlarmMessage(string Code, string Message, DateTimeOffset Since);

/// <summary>The alarm codes the station status carries (docs/mqtt.md, "Alarms").</summary>
public static class AlarmCodes
{
    /// <summary>The disk under the outbox is full: frames cannot be stored, so inspection waits.</summary>
    public const string StorageFull = "storage-full";

    /// <summary>The outbox cannot be written for another reason (I/O error, read-only file system).</summary>
    public const string StorageError = "storage-error";

    /// <summary>NG and uncertain messages alone exceed the outbox cap: they are kept, new OK verdicts are not stored.</summary>
    public const string OutboxOverCap = "outbox-over-cap";

    /// <summary>A pipeline stage has been stuck in one call for Pipeline:StallExitSeconds: the daemon exits to be restarted.</summary>
    public const string StageStalled = "stage-stalled";
}

public static class StationStates
{
    public const string Online = "online";
    public const string Offline = "offline";
}

/// <summary>The retained status of one camera.</summary>
public sealed record CameraStatusMessage
{
    public int Schema { get; init; } = VerdictMessage.CurrentSchema;

    public required string Camera { get; init; }

    /// <summary>online, offline or degraded (<see cref="CameraStates"/>).</summary>
    public required string State { get; init; }

    /// <summary>Why the camera is not online (the last error), null when it is.</summary>
    public string? Reason { get; init; }

    public required DateTimeOffset At { get; init; }
}

public static class CameraStates
{
    public const string Online = "online";
    public const string Offline = "offline";
    public const string Degraded = "degraded";
}

/// <summary>Periodic counters since start, per camera.</summary>
public sealed record StatsMessage
{
    public int Schema { get; init; } = VerdictMessage.CurrentSchema;

    public required DateTimeOffset At { get; init; }

    public required double UptimeSeconds { get; init; }

    public required IReadOnlyDictionary<string, CameraStats> Cameras { get; init; }
}

public sealed record CameraStats(long FramesCaptured, long FramesDropped, long Ok, long Ng, long Uncertain, long Failed, double Fps, double LatencyP50Ms, double LatencyP99Ms);

/// <summary>A trigger command for a camera in triggered mode: capture the next part and carry its id.</summary>
public sealed record TriggerCommand(string PartId);
