using System.Collections.Concurrent;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// Knows which pipeline stage is inside a blocking call (a camera read, an inference batch) and since when. Waiting
/// for work is not progress and not a stall; a call that does not return within the stall limit is a stall, and
/// the watchdog stops pinging so systemd restarts the service; one that outlasts Pipeline:StallExitSeconds stops the
/// daemon (<see cref="StallExit"/>).
/// </summary>
internal sealed class StageMonitor(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, long> busySince = new(StringComparer.Ordinal);
    private long completed;

    /// <summary>Calls completed by all stages since start.</summary>
    public long Completed => Interlocked.Read(ref completed);

    public BusyScope Busy(string stage)
    {
        busySince[stage] = time.GetTimestamp();
        return new BusyScope(this, stage);
    }

    public static string CameraStage(string camera) => $"camera '{camera}'";

    /// <summary>The stage that has been busy longest, if longer than <paramref name="limit"/>.</summary>
    public (string Stage, TimeSpan For)? Stalled(TimeSpan limit)
    {
        (string Stage, TimeSpan For)? worst = null;
        foreach (var (stage, since) in busySince)
        {
            var elapsed = time.GetElapsedTime(since);
            if (elapsed > limit && (worst is null || elapsed > worst.Value.For)) worst = (stage, elapsed);
        }
        return worst;
    }

    private void Exit(string stage)
    {
        busySince.TryRemove(stage, out _);
        Interlocked.Increment(ref completed);
    }

    public readonly struct BusyScope(StageMonitor monitor, string stage) : IDisposable
    {
        public void Dispose() => monitor.Exit(stage);
    }
}
