using DefectInspector.Publish;

namespace DefectInspector.Host.Capture;

/// <summary>
/// The triggers waiting for one triggered camera, oldest first, at most <paramref name="capacity"/>. Each has a
/// deadline; the <see cref="TriggerDesk"/> answers those that pass it or that the camera can no longer serve.
/// </summary>
internal sealed class TriggerInbox(string camera, int capacity)
{
    private readonly LinkedList<Pending> items = new();
    private readonly SemaphoreSlim posted = new(0);
    private readonly Lock gate = new();

    /// <summary>A trigger and the moment its part is taken to have left the station.</summary>
    public sealed record Pending(TriggerRequest Request, DateTimeOffset Deadline)
    {
        public string PartId => Request.Command!.PartId;
    }

    public string Camera { get; } = camera;

    public int Count
    {
        get
        {
            lock (gate) return items.Count;
        }
    }

    /// <summary>False when the inbox is full.</summary>
    public bool TryPost(Pending pending)
    {
        lock (gate)
        {
            if (items.Count >= capacity) return false;
            items.AddLast(pending);
        }
        posted.Release();
        return true;
    }

    /// <summary>The oldest trigger, waiting for one.</summary>
    public async ValueTask<Pending> ReadAsync(CancellationToken cancellation)
    {
        while (true)
        {
            // A trigger removed by RemoveExpired or RemoveAll leaves its count behind: wait again.
            await posted.WaitAsync(cancellation);
            lock (gate)
            {
                if (items.First is { } first)
                {
                    items.RemoveFirst();
                    return first.Value;
                }
            }
        }
    }

    /// <summary>The oldest trigger if it arrived before <paramref name="capturedAt"/>: a live camera's part is in the first frame after the command.</summary>
    public Pending? TakeIfDue(DateTimeOffset capturedAt)
    {
        lock (gate)
        {
            if (items.First is not { } first || capturedAt < first.Value.Request.ReceivedAt) return null;
            items.RemoveFirst();
            return first.Value;
        }
    }

    public List<Pending> RemoveExpired(DateTimeOffset now) => Remove(p => p.Deadline <= now);

    public List<Pending> RemoveAll() => Remove(_ => true);

    private List<Pending> Remove(Func<Pending, bool> match)
    {
        var removed = new List<Pending>();
        lock (gate)
        {
            for (var node = items.First; node is not null;)
            {
                var next = node.Next;
                if (match(node.Value))
                {
                    removed.Add(node.Value);
                    items.Remove(node);
                }
                node = next;
            }
        }
        return removed;
    }
}
