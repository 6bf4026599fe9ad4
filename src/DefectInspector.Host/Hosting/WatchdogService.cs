using System.Globalization;
using DefectInspector.Host.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// systemd's watchdog (WatchdogSec=, passed as WATCHDOG_USEC): pings at half the interval while no pipeline stage
/// is stuck in a call. A camera read or inference batch that hangs stops the pings, and systemd restarts us.
/// </summary>
internal sealed class WatchdogService(
    ISystemdNotifier notifier, StageMonitor monitor, IOptions<PipelineOptions> options, IHostApplicationLifetime lifetime, ILogger<WatchdogService> logger) : StoppableService
{
    private static readonly ServiceState Ping = new("WATCHDOG=1");

    public static TimeSpan? Interval =>
        long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out long usec) && usec > 0
            ? TimeSpan.FromMicroseconds(usec / 2.0)
            : null;

    protected override async Task RunAsync(CancellationToken stopping)
    {
        if (!notifier.IsEnabled || Interval is not { } interval) return;
        // Pings before READY=1 would be meaningless: wait until every service has started.
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            await started.Task.WaitAsync(stopping);

        var limit = TimeSpan.FromSeconds(options.Value.StallTimeoutSeconds);
        string? reportedStall = null;
        using var timer = new PeriodicTimer(interval);
        // The first ping waits one interval: READY=1 goes out from the same ApplicationStarted moment, and
        // cancellation callbacks run newest first, so an immediate ping could overtake it.
        while (await timer.WaitForNextTickAsync(stopping))
        {
            var stall = monitor.Stalled(limit);
            if (stall is null)
            {
                notifier.Notify(Ping);
                if (reportedStall is not null) logger.LogWarning("Pipeline stage {Stage} is moving again; watchdog pings resume", reportedStall);
                reportedStall = null;
            }
            else if (reportedStall != stall.Value.Stage)
            {
                reportedStall = stall.Value.Stage;
                logger.LogError("Pipeline stage {Stage} has been stuck for {Seconds:0} s (limit {LimitSeconds} s): watchdog pings stop, systemd will restart the service",
                    stall.Value.Stage, stall.Value.For.TotalSeconds, limit.TotalSeconds);
            }
        }
    }
}
