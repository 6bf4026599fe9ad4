using System.Threading.Channels;
using DefectInspector.Host.Capture;
using DefectInspector.Host.Health;
using DefectInspector.Host.Inspect;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// Starts the line: model, broker connection, one capture loop per camera, the inspection loop, rendering and
/// publishing, joined by bounded queues. Start returns only when the model is loaded and the broker connected,
/// which is when systemd hears READY=1. Stop stops capture, lets what was captured drain and publish, then goes offline.
/// </summary>
internal sealed class PipelineService(
    ModelLoader modelLoader,
    MqttPublisher publisher,
    Topics topics,
    StationIdentity station,
    StatusReporter reporter,
    IOptions<CamerasOptions> cameras,
    IOptions<ModelOptions> modelOptions,
    IOptions<PipelineOptions> pipelineOptions,
    IOptions<StorageOptions> storage,
    IOptions<MqttOptions> mqtt,
    StageMonitor monitor,
    CameraStatusBoard status,
    PipelineStats stats,
    PipelineHealth health,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger logger = loggers.CreateLogger<PipelineService>();
    private readonly CancellationTokenSource captureStop = new();
    private readonly CancellationTokenSource hardStop = new();
    private readonly List<IFrameSource> sources = [];
    private readonly List<Task> captureTasks = [];
    private readonly Dictionary<string, TriggerInbox> triggers = new(StringComparer.Ordinal);
    private InspectionModel? model;
    private Task drained = Task.CompletedTask;
    private Task statsLoop = Task.CompletedTask;
    private Task statusLoop = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellation)
    {
        var options = pipelineOptions.Value;
        // Loading (or first-start training of the demo model) is seconds of CPU work: keep it off the caller's thread.
        model = await Task.Run(() => modelLoader.Load(cancellation), cancellation);
        var method = CamMethods.Create(modelOptions.Value.Method is { Length: > 0 } m ? m : model.Metadata.Explainer.Method);
        string layer = modelOptions.Value.Layer is { Length: > 0 } l ? l : model.Metadata.Explainer.Layer;
        var inspector = new FrameInspector(model, method, new ExplainRequest(layer, GoodClass: model.Metadata.GoodClassIndex), loggers.CreateLogger<FrameInspector>());
        var modelRef = new ModelReference(model.Metadata.Name, model.Metadata.Version, model.Sha256);
        var composer = new MessageComposer(topics, station, modelRef, model.Metadata.Decision, method.Name, layer);

        var queues = new List<CameraQueue>();
        var workers = new List<CameraWorker>();
        foreach (var camera in cameras.Value.Cameras)
        {
            var settings = new SourceSettings
            {
                Loop = camera.Loop,
                RealTime = camera.RealTime,
                VirtualFps = camera.VirtualFps,
                StateDirectory = Path.Combine(storage.Value.ResolvedPath, "sources"),
                ProcessedFolder = camera.ProcessedFolder.Length == 0 ? null : camera.ProcessedFolder,
            };
            var source = FrameSources.Create(camera.Source, settings, loggers.CreateLogger($"DefectInspector.Capture.{camera.Name}"));
            sources.Add(source);
            var counters = stats.For(camera.Name);
            var queue = new CameraQueue(camera.Name, options.QueueCapacity, dropOldest: source.IsLive && !camera.IsTriggered, counters);
            queues.Add(queue);
            TriggerInbox? inbox = null;
            if (camera.IsTriggered) triggers[camera.Name] = inbox = new TriggerInbox();
            workers.Add(new CameraWorker(camera, source, queue, inbox, monitor, status, counters, loggers.CreateLogger<CameraWorker>()));
            status.Set(camera.Name, CameraStates.Offline, "starting");
        }

        await publisher.SubscribeTriggersAsync(OnTriggerAsync, cancellation);
        publisher.SetStatus(BuildStatus());
        status.Changed += OnCameraStatus;
        statusLoop = reporter.RunAsync(hardStop.Token);
        await publisher.StartAsync(cancellation);

        var inspected = Channel.CreateBounded<Inspection>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true, SingleWriter = true });
        var deliveries = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true, SingleWriter = true });
        var inspection = Loop("inspection", new InspectionWorker(queues, inspector, inspected.Writer, options, monitor, stats, loggers.CreateLogger<InspectionWorker>()).RunAsync);
        var render = Loop("render", new RenderWorker(inspected.Reader, deliveries.Writer, composer, options, stats, loggers.CreateLogger<RenderWorker>()).RunAsync);
        var publish = Loop("publish", new PublishWorker(deliveries.Reader, publisher, loggers.CreateLogger<PublishWorker>()).RunAsync);
        foreach (var worker in workers)
            captureTasks.Add(Task.Run(() => worker.RunAsync(captureStop.Token)));
        drained = Task.WhenAll(inspection, render, publish);
        if (options.StatsIntervalSeconds > 0)
            statsLoop = PublishStatsAsync(TimeSpan.FromSeconds(options.StatsIntervalSeconds), hardStop.Token);
        // Health: what /healthz watches (a loop that faults) and /readyz reports (the model).
        var loops = new Dictionary<string, Task> { ["inspection"] = inspection, ["render"] = render, ["publish"] = publish, ["status"] = statusLoop, ["stats"] = statsLoop };
        for (int i = 0; i < workers.Count; i++) loops[$"camera '{cameras.Value.Cameras[i].Name}'"] = captureTasks[i];
        health.Started(modelRef, loops);

        logger.LogInformation("DefectInspector running: {Cameras} camera(s), model {ModelName} {ModelVersion}, method {Method}/{Layer}. Watch with: mosquitto_sub -V mqttv5 -h {Host} -p {Port} -t '{Topics}/#' -v",
            workers.Count, modelRef.Name, modelRef.Version, method.Name, layer, MqttIdentity.BrokerHost(mqtt.Value), mqtt.Value.Port, topics.Root);
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        health.Stopping();
        var drainTimeout = TimeSpan.FromSeconds(pipelineOptions.Value.DrainTimeoutSeconds);
        logger.LogInformation("Stopping: capture stops, queued frames drain for up to {DrainSeconds} s", drainTimeout.TotalSeconds);
        await captureStop.CancelAsync();
        await WaitAsync(Task.WhenAll(captureTasks), drainTimeout, "capture");
        if (!await WaitAsync(drained, drainTimeout, "drain"))
            logger.LogWarning("Frames still queued after {DrainSeconds} s are abandoned undelivered", drainTimeout.TotalSeconds);
        await hardStop.CancelAsync();
        await WaitAsync(drained, TimeSpan.FromSeconds(5), "cancel");
        await statsLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var camera in cameras.Value.Cameras)
            status.Set(camera.Name, CameraStates.Offline, "daemon stopped");
        status.Changed -= OnCameraStatus;
        reporter.Complete();
        await WaitAsync(statusLoop, TimeSpan.FromSeconds(5), "status");
        await publisher.StopAsync(cancellation);
    }

    public ValueTask DisposeAsync()
    {
        foreach (var source in sources) source.Dispose();
        model?.Dispose();
        captureStop.Dispose();
        hardStop.Dispose();
        return ValueTask.CompletedTask;
    }

    private StatusMessage BuildStatus() => new()
    {
        State = StationStates.Online,
        Site = station.Site,
        Line = station.Line,
        Station = station.Station,
        At = DateTimeOffset.UtcNow,
        Version = ProductVersion.Current,
        Model = model is null ? null : new ModelReference(model.Metadata.Name, model.Metadata.Version, model.Sha256),
        Cameras = status.States,
    };

    private Task OnTriggerAsync(string camera, TriggerCommand command)
    {
        if (triggers.TryGetValue(camera, out var inbox))
            inbox.Post(command);
        else
            logger.LogWarning("Trigger for camera {Camera} (part {PartId}) ignored: no camera of that name has Trigger=mqtt", camera, command.PartId);
        return Task.CompletedTask;
    }

    private void OnCameraStatus(CameraStatusMessage message)
    {
        reporter.Post(OutgoingMessages.CameraStatus(topics, message));
        reporter.Post(BuildStatus());
    }

    private async Task PublishStatsAsync(TimeSpan interval, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(cancellation))
            reporter.Post(OutgoingMessages.Stats(topics, stats.Snapshot()));
    }

    /// <summary>A pipeline loop that dies takes the daemon down (systemd restarts it) rather than idling silently.</summary>
    private Task Loop(string name, Func<CancellationToken, Task> body) => Task.Run(async () =>
    {
        try
        {
            await body(hardStop.Token);
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "Pipeline loop {Loop} failed; stopping the daemon", name);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
            throw;
        }
    });

    private async Task<bool> WaitAsync(Task task, TimeSpan timeout, string what)
    {
        try
        {
            await task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Stop: {Stage} did not finish within {Seconds} s", what, timeout.TotalSeconds);
            return false;
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            return true;
        }
        catch (Exception e)
        {
            logger.LogError(e, "Stop: {Stage} ended with an error", what);
            return true;
        }
    }
}
