namespace DefectInspector.Host.Hmi;

/// <summary>
/// Slows password guessing per user name, whatever address the tries come from: behind a reverse proxy every browser
/// shares one address, so the per-address limit alone would either lock out the whole line or let one guesser go on.
/// After <see cref="FreeFailures"/> failures in a row a name waits 30 s, twice as long after each further failure,
/// at most 15 minutes; a success, or 15 quiet minutes, forgives. Unknown names are tracked like real ones, so the
/// answers do not tell which names exist.
/// </summary>
internal sealed class LoginBackoff(TimeProvider time)
{
    public const int FreeFailures = 5;
    private const int MaxTracked = 10_000;
    private static readonly TimeSpan FirstWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LongestWait = TimeSpan.FromMinutes(15);

    private readonly Lock gate = new();
    private readonly Dictionary<string, Record> names = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long <paramref name="name"/> must wait before its next try; zero when it may try now.</summary>
    public TimeSpan Wait(string name)
    {
        var now = time.GetUtcNow();
        lock (gate)
            return names.TryGetValue(name, out var record) && record.Until > now ? record.Until - now : TimeSpan.Zero;
    }

    public void Failed(string name)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            int failures = names.TryGetValue(name, out var record) && now - record.Last < LongestWait ? record.Failures + 1 : 1;
            var wait = failures < FreeFailures ? TimeSpan.Zero
                : TimeSpan.FromTicks(Math.Min(LongestWait.Ticks, FirstWait.Ticks << Math.Min(failures - FreeFailures, 10)));
            names[name] = new Record(failures, now, now + wait);
            // Many names guessed once each must not grow this without bound; those not waiting lose little by going.
            if (names.Count > MaxTracked)
                foreach (var stale in names.Where(n => n.Value.Until <= now).Select(n => n.Key).ToList())
                    names.Remove(stale);
        }
    }

    public void Succeeded(string name)
    {
        lock (gate)
            names.Remove(name);
    }

    private readonly record struct Record(int Failures, DateTimeOffset Last, DateTimeOffset Until);
}
