namespace DefectInspector.Host.Health;

/// <summary>
/// The hook for the durable outbox: register one implementation (services.AddSingleton&lt;IOutboxBacklog&gt;(...)) and
/// /metrics exports defectinspector_outbox_depth and defectinspector_outbox_oldest_age_seconds from it at every
/// scrape. Without one, neither gauge is exported (there is no outbox to measure).
/// </summary>
public interface IOutboxBacklog
{
    /// <summary>Read at each scrape, from the scrape's thread: keep it cheap and thread-safe.</summary>
    OutboxBacklog Current { get; }
}

/// <param name="Depth">Messages stored and not yet acknowledged by the broker.</param>
/// <param name="OldestQueuedAt">When the oldest of them was stored; null when none waits.</param>
public readonly record struct OutboxBacklog(long Depth, DateTimeOffset? OldestQueuedAt);
