using DefectInspector.Host.Options;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// The last resort for a stage stuck in a call that nothing in the process can cancel (an inference batch in native
/// code, a camera driver's read): once one call has lasted Pipeline:StallExitSeconds, the alarm stage-stalled goes
/// out with the status and the daemon stops with exit code <see cref="DaemonHost.ExitStalled"/>, so that systemd
/// (Restart=on-failure) or Docker (restart: unless-stopped) starts a fresh process. The outbox makes that restart
/// lossless. Under systemd the watchdog usually acts first; this covers running without it.
/// </summary>
internal sealed class StallExit(
    StageMonitor monitor, AlarmBoard alarms, IOptions<PipelineOptions> options, IHostApplicationLifetime lifetime, ILogger<StallExit> logger) : StoppableService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly TimeSpan limit = TimeSpan.FromSeconds(options.Value.StallExitSeconds);

    protected override async Task RunAsync(CancellationToken stopping)
    {
        if (limit == TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            if (Check() is null) continue;
            Environment.ExitCode = DaemonHost.ExitStalled;
            lifetime.StopApplication();
            return;
        }
    }

    /// <summary>The stage stuck past the limit, logged and raised as an alarm; null while none is (or the limit is 0).</summary>
    internal (string Stage, TimeSpan For)? Check()
    {
        if (limit == TimeSpan.Zero || monitor.Stalled(limit) is not { } stall) return null;
        logger.LogCritical("Pipeline stage {Stage} has been stuck in one call for {Seconds:0} s (Pipeline:StallExitSeconds {LimitSeconds} s), which nothing in the process can end: exiting with code {ExitCode} to be restarted",
            stall.Stage, stall.For.TotalSeconds, limit.TotalSeconds, DaemonHost.ExitStalled);
        alarms.Raise(AlarmCodes.StageStalled, FormattableString.Invariant($"{stall.Stage} stuck in one call for {stall.For.TotalSeconds:0} s; the daemon exits to be restarted"));
        return stall;
    }
}
