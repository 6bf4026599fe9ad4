namespace DefectInspector.Publish.Contracts;

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
