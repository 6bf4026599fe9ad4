using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using DefectInspector.Host.Options;
using DefectInspector.Inference.Model;
using Spectre.Console;

namespace DefectInspector.Cli.Commands;

/// <summary>
/// `bench --soak MINUTES`: the daemon in this process on a looping video file as fast as it goes (every part
/// rendered, /metrics scraped at every sample) for MINUTES, sampling the process every 5 s. Memory that grows after
/// the warm-up is a leak: managed (the GC heap) or native (libtorch tensors, OpenCV Mats: RSS only).
/// </summary>
internal static class SoakBench
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(InspectionModel model, string engine, int minutes, double maxGrowthPercent, TextWriter output, CancellationToken cancellation)
    {
        var duration = TimeSpan.FromMinutes(minutes);
        var warmup = SoakAnalysis.WarmupFor(duration);
        int batch = new PipelineOptions().MaxBatchSize;
        string work = Directory.CreateTempSubdirectory("di-soak-").FullName;
        var samples = new List<SoakSample>();
        try
        {
            int healthPort = PipelineBench.FreePort();
            await using (var line = await new PipelineBench(model, engine, work).StartAsync(batch, realTime: false, fps: 25,
                ["--Pipeline:SnapshotOk=true", "--Pipeline:StatsIntervalSeconds=5", $"--Health:Url=http://127.0.0.1:{healthPort}"], keepArrivals: false, cancellation))
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}"), Timeout = TimeSpan.FromSeconds(10) };
                await ProgressConsole.Create().Progress()
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async context =>
                    {
                        var task = context.AddTask("soak", maxValue: duration.TotalSeconds);
                        var clock = Stopwatch.StartNew();
                        using var timer = new PeriodicTimer(Interval);
                        while (clock.Elapsed < duration && await timer.WaitForNextTickAsync(cancellation))
                        {
                            // Part of the soak: an operator's Prometheus scrapes the daemon all the time.
                            using (await http.GetAsync("/metrics", cancellation)) { }
                            var sample = SoakSample.Take(clock.Elapsed, line.Verdicts, samples.LastOrDefault());
                            samples.Add(sample);
                            task.Value = Math.Min(clock.Elapsed.TotalSeconds, duration.TotalSeconds);
                            task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                                $"soak: RSS {sample.RssMb:0} MB, managed {sample.ManagedMb:0} MB, {sample.VerdictsPerSecond:0.0} verdicts/s"));
                        }
                    });
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        var analysis = SoakAnalysis.Analyse(samples, warmup);
        Print(output, model, minutes, batch, samples, analysis, maxGrowthPercent);
        if (samples.Count == 0 || samples[^1].Verdicts == 0)
        {
            output.WriteLine("result: FAIL: no verdicts arrived");
            return 1;
        }
        if (analysis.RssGrowthPercent > maxGrowthPercent)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: FAIL: RSS grew {analysis.RssGrowthPercent:0.0}% after the warm-up, more than --max-growth-percent {maxGrowthPercent:0.#}"));
            return 1;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: pass (RSS growth {analysis.RssGrowthPercent:0.0}% <= {maxGrowthPercent:0.#}%)"));
        return 0;
    }

    private static void Print(TextWriter output, InspectionModel model, int minutes, int batch, IReadOnlyList<SoakSample> samples, SoakAnalysis analysis, double maxGrowthPercent)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"soak: {minutes} min, model {model.Metadata.Name} ({model.Metadata.Preprocessing.Width}x{model.Metadata.Preprocessing.Height}), " +
            $"daemon in this process: video file as fast as it goes, batch up to {batch}, a snapshot for every part, /metrics scraped every {Interval.TotalSeconds:0} s");
        output.WriteLine();
        output.WriteLine("| t | RSS MB | managed MB | GC heap MB | native in use MB | native free MB | fds | threads | verdicts/s |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in samples)
            output.WriteLine(string.Create(inv, $"| {(int)s.At.TotalMinutes}:{s.At.Seconds:00} | {s.RssMb:0.0} | {s.ManagedMb:0.0} | {s.GcHeapMb:0.0} | {s.NativeInUseMb:0.0} | {s.NativeFreeMb:0.0} | {s.FileDescriptors} | {s.Threads} | {s.VerdictsPerSecond:0.0} |"));
        output.WriteLine();
        string window = string.Create(inv, $"minute {analysis.Warmup.TotalMinutes:0.#} to {analysis.End.TotalMinutes:0.#}");
        output.WriteLine(string.Create(inv, $"samples: {samples.Count} ({analysis.Measured} after the warm-up)"));
        output.WriteLine(string.Create(inv, $"slope ({window}): RSS {analysis.RssSlopeMbPerMinute:+0.000;-0.000} MB/min, managed heap {analysis.ManagedSlopeMbPerMinute:+0.000;-0.000} MB/min, " +
            $"native heap in use {analysis.NativeSlopeMbPerMinute:+0.000;-0.000} MB/min"));
        output.WriteLine(string.Create(inv, $"growth ({window}, on the fitted line): RSS {analysis.RssGrowthPercent:+0.0;-0.0}% (limit {maxGrowthPercent:0.#}%), " +
            $"managed heap {analysis.ManagedGrowthPercent:+0.0;-0.0}%; fds {analysis.FileDescriptorGrowth:+0;-0}, threads {analysis.ThreadGrowth:+0;-0} (first to last sample)"));
        if (samples.Count > 0)
            output.WriteLine(string.Create(inv, $"verdicts: {samples[^1].Verdicts} in {samples[^1].At.TotalMinutes:0.0} min, {samples[^1].Verdicts / Math.Max(samples[^1].At.TotalSeconds, 1):0.0}/s"));
    }
}

/// <summary>
/// One look at the process during a soak. The native heap (glibc's malloc, which libtorch's CPU tensors and OpenCV's
/// Mats use) tells a leak (in use grows) from the allocator keeping freed memory for reuse (free grows, RSS with it);
/// NaN where glibc's mallinfo2 is not there.
/// </summary>
internal sealed partial record SoakSample(TimeSpan At, double RssMb, double ManagedMb, double GcHeapMb, int FileDescriptors, int Threads, long Verdicts, double VerdictsPerSecond)
{
    public double NativeInUseMb { get; init; } = double.NaN;

    public double NativeFreeMb { get; init; } = double.NaN;

    private const double Mb = 1024 * 1024;

    public static SoakSample Take(TimeSpan at, long verdicts, SoakSample? previous)
    {
        var status = ProcStatus();
        double rss = status.TryGetValue("VmRSS", out long rssKb) ? rssKb * 1024 / Mb : Environment.WorkingSet / Mb;
        int threads = status.TryGetValue("Threads", out long t) ? (int)t : Process.GetCurrentProcess().Threads.Count;
        int fds = Directory.Exists("/proc/self/fd") ? Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() : -1;
        double rate = previous is null ? verdicts / Math.Max(at.TotalSeconds, 1e-3)
            : (verdicts - previous.Verdicts) / Math.Max((at - previous.At).TotalSeconds, 1e-3);
        var native = NativeHeap();
        return new SoakSample(at, rss, GC.GetTotalMemory(forceFullCollection: false) / Mb, GC.GetGCMemoryInfo().HeapSizeBytes / Mb, fds, threads, verdicts, rate)
        {
            NativeInUseMb = native?.InUse / Mb ?? double.NaN,
            NativeFreeMb = native?.Free / Mb ?? double.NaN,
        };
    }

    /// <summary>glibc's malloc: bytes in use (arena chunks and mmapped blocks) and bytes free inside its arenas.</summary>
    private static (double InUse, double Free)? NativeHeap()
    {
        try
        {
            var info = MallInfo2();
            return ((double)info.UordBlks + info.HBlkHd, info.FordBlks);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo MallInfo2();

    /// <summary>The "Key: value [kB]" lines of /proc/self/status; empty where there is none.</summary>
    private static Dictionary<string, long> ProcStatus()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!File.Exists("/proc/self/status")) return values;
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            string value = line[(colon + 1)..].Trim().Split(' ')[0];
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
                values[line[..colon]] = number;
        }
        return values;
    }
}

/// <summary>
/// Slopes (least squares, MB per minute) and growth after the warm-up of a soak's samples. Growth is read off the
/// fitted line, from the first sample after the warm-up to the last: RSS swings by a few percent from one sample to
/// the next (allocator arenas, libtorch's caches), and a comparison of two single samples would mostly measure that.
/// </summary>
internal sealed record SoakAnalysis(TimeSpan Warmup, TimeSpan End, int Measured, double RssSlopeMbPerMinute, double ManagedSlopeMbPerMinute,
    double RssGrowthPercent, double ManagedGrowthPercent, int FileDescriptorGrowth, int ThreadGrowth)
{
    /// <summary>NaN where the native heap could not be read.</summary>
    public double NativeSlopeMbPerMinute { get; init; } = double.NaN;

    /// <summary>The first minute; for runs of 10 minutes or more, the first five (libtorch's caches and the GC's budgets settle slowly).</summary>
    public static TimeSpan WarmupFor(TimeSpan duration) => TimeSpan.FromMinutes(duration >= TimeSpan.FromMinutes(10) ? 5 : 1);

    public static SoakAnalysis Analyse(IReadOnlyList<SoakSample> samples, TimeSpan warmup)
    {
        var measured = samples.Where(s => s.At >= warmup).ToList();
        if (measured.Count < 2) return new SoakAnalysis(warmup, samples.LastOrDefault()?.At ?? TimeSpan.Zero, measured.Count, 0, 0, 0, 0, 0, 0) { NativeSlopeMbPerMinute = 0 };
        SoakSample first = measured[0], last = measured[^1];
        var rss = Fit.Of(measured, s => s.RssMb);
        var managed = Fit.Of(measured, s => s.ManagedMb);
        return new SoakAnalysis(warmup, last.At, measured.Count, rss.Slope, managed.Slope,
            rss.GrowthPercent(first.At, last.At), managed.GrowthPercent(first.At, last.At),
            last.FileDescriptors - first.FileDescriptors, last.Threads - first.Threads)
        {
            NativeSlopeMbPerMinute = Fit.Of(measured, s => s.NativeInUseMb).Slope,
        };
    }

    /// <summary>The least-squares line through (minutes, value).</summary>
    private readonly record struct Fit(double MeanMinutes, double MeanValue, double Slope)
    {
        public static Fit Of(IReadOnlyList<SoakSample> samples, Func<SoakSample, double> value)
        {
            double meanX = samples.Average(s => s.At.TotalMinutes), meanY = samples.Average(value);
            double covariance = samples.Sum(s => (s.At.TotalMinutes - meanX) * (value(s) - meanY));
            double variance = samples.Sum(s => Math.Pow(s.At.TotalMinutes - meanX, 2));
            return new Fit(meanX, meanY, variance == 0 ? 0 : covariance / variance);
        }

        public double At(TimeSpan t) => MeanValue + Slope * (t.TotalMinutes - MeanMinutes);

        public double GrowthPercent(TimeSpan from, TimeSpan to) => At(from) <= 0 ? 0 : (At(to) - At(from)) / At(from) * 100;
    }
}
