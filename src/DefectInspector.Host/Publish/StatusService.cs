using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Station status, camera status and stats beside the verdict stream. On stop, after the line has drained and the
/// outbox has been given its time, every camera is reported offline before the connection closes.
/// </summary>
internal sealed class StatusService(
    StatusReporter reporter, StationStatus station, CameraStatusBoard cameras, AlarmBoard alarms, PipelineStats stats, Topics topics,
    IOptions<CamerasOptions> configured, IOptions<PipelineOptions> pipeline, PipelineLoops loops) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private Task statusLoop = Task.CompletedTask;
    private Task statsLoop = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellation)
    {
        cameras.Changed += OnCameraStatus;
        alarms.Changed += OnAlarms;
        statusLoop = loops.Run("status", reporter.RunAsync, stop.Token);
        int interval = pipeline.Value.StatsIntervalSeconds;
        if (interval > 0)
            statsLoop = loops.Run("stats", token => PublishStatsAsync(TimeSpan.FromSeconds(interval), token), stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        foreach (var camera in configured.Value.Cameras)
            cameras.Set(camera.Name, CameraStates.Offline, "daemon stopped");
        cameras.Changed -= OnCameraStatus;
        alarms.Changed -= OnAlarms;
        reporter.Complete();
        await loops.WaitAsync(statusLoop, TimeSpan.FromSeconds(5), "status");
        await stop.CancelAsync();
        await statsLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose() => stop.Dispose();

    private void OnAlarms() => reporter.Post(station.Now());

    private void OnCameraStatus(CameraStatusMessage message)
    {
        reporter.Post(OutgoingMessages.CameraStatus(topics, message));
        reporter.Post(station.Now());
    }

    private async Task PublishStatsAsync(TimeSpan interval, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(cancellation))
            reporter.Post(OutgoingMessages.Stats(topics, stats.Snapshot()));
    }
}
