namespace DefectInspector.Publish.Contracts;

/// <summary>The retained station status; <c>offline</c> is also the Last Will.</summary>
public sealed record StatusMessage
{
    public string Schema { get; init; } = SchemaVersion.Current;

    /// <summary>online or offline (<see cref="StationStates"/>).</summary>
    public required string State { get; init; }

    public required string Site { get; init; }

    public required string Line { get; init; }

    public required string Station { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>The product version; null in the Last Will (set before start-up knows more).</summary>
    public string? Version { get; init; }

    public ModelReference? Model { get; init; }

    /// <summary>The hash of the station descriptor in force (the retained <c>config</c> message).</summary>
    public string? ConfigHash { get; init; }

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
