using DefectInspector.Host.Health;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Publish;
using DefectInspector.Publish.Outbox;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Capture;

/// <summary>
/// The last stage to start and the first to stop: one capture loop per camera, filling its queue. Once they run the
/// line is started, which is when /readyz and systemd's READY=1 say so. Stopping ends capture and refuses the
/// triggers still waiting, so what was captured can drain.
/// </summary>
internal sealed class CaptureService(
    CameraSet cameras, TriggerDesk desk, ErrorVerdicts errors, SqliteOutbox outbox, LineModel line, PipelineLoops loops, PipelineHealth health,
    StageMonitor monitor, CameraStatusBoard status, PipelineStats stats, Topics topics, IOptions<PipelineOptions> pipeline, IOptions<MqttOptions> mqtt,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger logger = loggers.CreateLogger<CaptureService>();
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> captures = [];

    public Task StartAsync(CancellationToken cancellation)
    {
        foreach (var camera in cameras.All)
        {
            string name = camera.Options.Name;
            var triggered = desk.InboxOf(name) is { } inbox ? new CameraTriggers(inbox, desk, errors) : null;
            var worker = new CameraWorker(camera.Options, camera.Source, camera.Queue, triggered, pipeline.Value, monitor, status, stats.For(name),
                frameRef => outbox.PendingId(name, frameRef), loggers.CreateLogger<CameraWorker>());
            // A camera's own failures are its worker's to handle (backoff, circuit); one that still ends in a fault
            // shows on /healthz without taking the other cameras down.
            var capture = Task.Run(() => worker.RunAsync(stop.Token));
            health.Watch($"camera '{name}'", capture);
            captures.Add(capture);
        }
        health.Started(line.Serving);
        var serving = line.Serving;
        logger.LogInformation("DefectInspector running: {Cameras} camera(s), model {ModelName} {ModelVersion}, method {Method}/{Layer}. Watch with: mosquitto_sub -V mqttv5 -i watch -h {Host} -p {Port} -t '{Topics}/#' -v",
            cameras.All.Count, serving.Reference.Name, serving.Reference.Version, serving.Method, serving.Layer, MqttIdentity.BrokerHost(mqtt.Value), mqtt.Value.Port, topics.Root);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        health.Stopping();
        logger.LogInformation("Stopping: capture stops, queued frames drain for up to {DrainSeconds} s", pipeline.Value.DrainTimeoutSeconds);
        await stop.CancelAsync();
        await loops.WaitAsync(Task.WhenAll(captures), TimeSpan.FromSeconds(pipeline.Value.DrainTimeoutSeconds), "capture");
        desk.Close();
    }

    public ValueTask DisposeAsync()
    {
        // A capture call stuck in native code (what StallExit stops the daemon for) still uses its source: freed under
        // it, the process could crash on the way out and lose the exit code that says why it stopped.
        for (int i = 0; i < cameras.All.Count; i++)
            if (i >= captures.Count || captures[i].IsCompleted) cameras.All[i].Source.Dispose();
        stop.Dispose();
        return ValueTask.CompletedTask;
    }
}
