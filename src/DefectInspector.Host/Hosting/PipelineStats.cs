using System.Collections.Concurrent;
using System.Diagnostics;
using DefectInspector.Core.Decision;
using DefectInspector.Core.Statistics;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Hosting;

/// <summary>Counters since start, per camera, and the recent capture-to-decision latencies.</summary>
internal sealed class PipelineStats
{
    private readonly ConcurrentDictionary<string, CameraCounters> cameras = new(StringComparer.Ordinal);
    private readonly long started = Stopwatch.GetTimestamp();

    /// <summary>Each decided frame: camera, verdict and stage timings in ms (queue ... total), for the /metrics histograms.</summary>
    public event Action<string, Verdict, IReadOnlyDictionary<string, double>>? FrameDecided;

    public CameraCounters For(string camera) => cameras.GetOrAdd(camera, name => new CameraCounters(name, this));

    public StatsMessage Snapshot() => new()
    {
        At = DateTimeOffset.UtcNow,
        UptimeSeconds = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 1),
        Cameras = cameras.ToDictionary(kv => kv.Key, kv => kv.Value.ToStats(Stopwatch.GetElapsedTime(started))),
    };

    internal sealed class CameraCounters(string camera, PipelineStats owner)
    {
        private const int LatencyWindow = 1024;
        private readonly double[] latencies = new double[LatencyWindow];
        private long captured, dropped, ok, ng, uncertain, failed, errors, latencyCount;

        public void Captured() => Interlocked.Increment(ref captured);

        public void Dropped() => Interlocked.Increment(ref dropped);

        public void Failed() => Interlocked.Increment(ref failed);

        /// <summary>A failed frame that answered its trigger with an error verdict (also counted as failed).</summary>
        public void Errored()
        {
            Interlocked.Increment(ref errors);
        }

        public long Errors => Interlocked.Read(ref errors);

        public void Decided(Verdict verdict, double latencyMs)
        {
            if (verdict == Verdict.Ok) Interlocked.Increment(ref ok);
            else if (verdict == Verdict.Ng) Interlocked.Increment(ref ng);
            else Interlocked.Increment(ref uncertain);
            lock (latencies) latencies[latencyCount++ % LatencyWindow] = latencyMs;
        }

        /// <summary><see cref="Decided(Verdict, double)"/> with the frame's stage timings; total is its latency.</summary>
        public void Decided(Verdict verdict, IReadOnlyDictionary<string, double> timingsMs)
        {
            Decided(verdict, timingsMs["total"]);
            owner.FrameDecided?.Invoke(camera, verdict, timingsMs);
        }

        public CameraStats ToStats(TimeSpan uptime)
        {
            double[] window;
            lock (latencies) window = latencies.Take((int)Math.Min(latencyCount, LatencyWindow)).Order().ToArray();
            long decided = Interlocked.Read(ref ok) + Interlocked.Read(ref ng) + Interlocked.Read(ref uncertain);
            return new CameraStats(Interlocked.Read(ref captured), Interlocked.Read(ref dropped), Interlocked.Read(ref ok), Interlocked.Read(ref ng),
                Interlocked.Read(ref uncertain), Interlocked.Read(ref failed), Interlocked.Read(ref errors),
                Math.Round(decided / Math.Max(uptime.TotalSeconds, 1e-3), 2), Percentile(window, 0.50), Percentile(window, 0.99));
        }

        private static double Percentile(double[] sorted, double q) =>
            sorted.Length == 0 ? 0 : Math.Round(Percentiles.OfSorted(sorted, q), 1);
    }
}
