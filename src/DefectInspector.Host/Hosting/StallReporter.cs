using DefectInspector.Host.Options;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// Says so when a camera's read hangs: the camera turns <c>degraded</c> on MQTT and in health while the read has been
/// stuck past the stall limit, and back to <c>online</c> when it returns. (The watchdog, separately, stops pinging.)
/// </summary>
internal sealed class StallReporter(
    StageMonitor monitor, CameraStatusBoard status, IOptions<CamerasOptions> cameras, IOptions<PipelineOptions> pipeline, ILogger<StallReporter> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var limit = TimeSpan.FromSeconds(pipeline.Value.StallTimeoutSeconds);
        var degraded = new HashSet<string>(StringComparer.Ordinal);
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            foreach (var camera in cameras.Value.Cameras.Select(c => c.Name))
            {
                var busy = monitor.BusyFor(StageMonitor.CameraStage(camera));
                bool stuck = busy > limit;
                if (stuck && degraded.Add(camera))
                {
                    logger.LogError("Camera {Camera}: read stuck for {Seconds:0} s (limit {LimitSeconds} s)", camera, busy!.Value.TotalSeconds, limit.TotalSeconds);
                    status.Set(camera, CameraStates.Degraded, $"read stuck for more than {limit.TotalSeconds:0} s");
                }
                // A read that ends in an error has made the camera offline already; only a read that returns is recovery.
                else if (!stuck && degraded.Remove(camera) && status.States.GetValueOrDefault(camera) == CameraStates.Degraded)
                {
                    logger.LogInformation("Camera {Camera}: reads return again", camera);
                    status.Set(camera, CameraStates.Online);
                }
            }
        }
    }
}
