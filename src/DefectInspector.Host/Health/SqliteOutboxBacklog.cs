using DefectInspector.Publish.Outbox;

namespace DefectInspector.Host.Health;

/// <summary>The durable outbox as /metrics sees it: how many messages wait for the broker, and since when.</summary>
internal sealed class SqliteOutboxBacklog(SqliteOutbox outbox) : IOutboxBacklog
{
    public OutboxBacklog Current
    {
        get
        {
            long depth = outbox.Depth;
            return new OutboxBacklog(depth, depth == 0 ? null : DateTimeOffset.UtcNow - outbox.OldestAge);
        }
    }
}
