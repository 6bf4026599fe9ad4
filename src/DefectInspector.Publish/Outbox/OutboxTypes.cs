namespace DefectInspector.Publish.Outbox;

/// <summary>What the size cap may give up: routine (OK) frames go first, critical (NG, uncertain) frames never.</summary>
public enum OutboxPriority
{
    Routine = 0,
    Critical = 1,
}

/// <summary>What became of an append.</summary>
public enum OutboxAppend
{
    Stored,

    /// <summary>A routine frame not stored because critical frames alone fill the cap (counted and logged).</summary>
    Refused,
}

/// <summary>
/// A frame that is in the outbox but that its source has not yet recorded as done (a watched folder's file). If the
/// daemon dies in between, the source offers the frame again after the restart, and it is inspected again under
/// this id, so the duplicate it causes carries the id a consumer already has.
/// </summary>
public sealed record PendingFrame(string Source, string FrameRef, string Id);

/// <summary>A stored message, with its place in the outbox's order and when it was stored.</summary>
public sealed record OutboxEntry(long Sequence, OutgoingMessage Message, DateTimeOffset StoredAt);

/// <summary>The outbox could not be written; nothing of the attempted change was kept.</summary>
public sealed class OutboxWriteException(string message, bool diskFull, Exception inner) : IOException(message, inner)
{
    /// <summary>The disk (or the database's page limit) is full, rather than some other I/O failure.</summary>
    public bool DiskFull { get; } = diskFull;
}
