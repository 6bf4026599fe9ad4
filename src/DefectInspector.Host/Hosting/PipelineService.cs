using System.Threading.Channels;
using DefectInspector.Host.Capture;
using DefectInspector.Host.Health;
using DefectInspector.Host.Hmi;
using DefectInspector.Host.Inspect;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Inference.Engine;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Outbox;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// Starts the line: model, broker connection, one capture loop per camera, the inspection loop, rendering and
/// storing in the outbox, joined by bounded queues, and the outbox dispatcher that publishes. Start returns only when
/// the model is loaded and the broker connected, which is when systemd hears READY=1. Stop stops capture, lets what
/// was captured drain into the outbox, gives the dispatcher a bounded time to publish it, then goes offline.
/// </summary>
internal sealed class PipelineService(
    ModelLoader modelLoader,
    MqttPublisher publisher,
    Topics topics,
    StationIdentity station,
    StatusReporter reporter,
    IOptions<CamerasOptions> cameras,
    IOptions<PipelineOptions> pipelineOptions,
    IOptions<StorageOptions> storage,
    IOptions<MqttOptions> mqtt,
    IOptions<ModelOptions> modelOptions,
    SqliteOutbox outbox,
    TriggerDesk desk,
    DecidedVerdicts decided,
    SparkplugEdge sparkplug,
    AlarmBoard alarms,
    StageMonitor monitor,
    CameraStatusBoard status,
    PipelineStats stats,
    PipelineHealth health,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers,
    IServiceProvider services) : IHostedService, IAsyncDisposable
{
    private readonly ILogger logger = loggers.CreateLogger<PipelineService>();
    private readonly CancellationTokenSource captureStop = new();
    private readonly CancellationTokenSource hardStop = new();
    private readonly CancellationTokenSource dispatchStop = new();
    private readonly List<IFrameSource> sources = [];
    private readonly List<Task> captureTasks = [];
    private readonly List<CameraQueue> queues = [];
    private IInferenceEngine? engine;
    private ErrorVerdicts? errors;
    private string? configHash;
    private Task inspectionLoop = Task.CompletedTask;
    private Task drained = Task.CompletedTask;
    private Task statsLoop = Task.CompletedTask;
    private Task statusLoop = Task.CompletedTask;
    private Task dispatchLoop = Task.CompletedTask;
    private Task archiveLoop = Task.CompletedTask;
    private Task triggerLoop = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellation)
    {
        var options = pipelineOptions.Value;
        // Loading (or first-start training of the demo model) is seconds of CPU work: keep it off the caller's thread.
        var partInspector = await Task.Run(() => modelLoader.Load(cancellation), cancellation);
        engine = partInspector.Engine;
        var model = engine.Metadata;
        var inspector = new FrameInspector(partInspector, loggers.CreateLogger<FrameInspector>());
        string method = inspector.Method, layer = inspector.Layer;
        var modelRef = new ModelReference(model.Name, model.Version, engine.Sha256);
        var descriptor = StationDescriptor.Describe(station, engine, method, layer, cameras.Value.Cameras, modelOptions.Value.DefectCodes);
        configHash = descriptor.ConfigHash;
        var composer = new MessageComposer(topics, station, modelRef, model.Decision, method, layer, descriptor.ConfigHash, descriptor.DefectCodes);
        errors = new ErrorVerdicts(composer, outbox, stats, decided, loggers.CreateLogger<ErrorVerdicts>());

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
            var triggered = desk.InboxOf(camera.Name) is { } inbox ? new CameraTriggers(inbox, desk, errors) : null;
            string name = camera.Name;
            workers.Add(new CameraWorker(camera, source, queue, triggered, options, monitor, status, counters, frameRef => outbox.PendingId(name, frameRef), loggers.CreateLogger<CameraWorker>()));
            status.Set(camera.Name, CameraStates.Offline, "starting");
        }

        await publisher.SubscribeTriggersAsync(desk.OnTriggerAsync, cancellation);
        await publisher.PublishRetainedAsync(OutgoingMessages.Config(topics, descriptor), cancellation);
        publisher.SetStatus(BuildStatus());
        status.Changed += OnCameraStatus;
        alarms.Changed += OnAlarms;
        statusLoop = reporter.RunAsync(hardStop.Token);
        // Not stopped with the pipeline: the refusals Close sends on the way out still go out.
        triggerLoop = desk.RunAsync(dispatchStop.Token);
        await publisher.StartAsync(cancellation);
        await sparkplug.StartAsync(descriptor, cancellation);
        dispatchLoop = Loop("delivery", new OutboxDispatcher(outbox, publisher, loggers.CreateLogger<OutboxDispatcher>()).RunAsync, dispatchStop.Token);

        var inspected = Channel.CreateBounded<Inspection>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true, SingleWriter = true });
        var deliveries = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true, SingleWriter = true });
        var inspection = inspectionLoop = Loop("inspection", new InspectionWorker(queues, inspector, inspected.Writer, errors, options, monitor, stats, loggers.CreateLogger<InspectionWorker>()).RunAsync);
        var archive = CreateArchive();
        // The HMI's parts exist only when Hmi:Url is set.
        var reviews = services.GetService<ReviewStore>();
        var intake = reviews is null ? null : new ReviewIntake(model.GoodClass ?? "good");
        var render = Loop("render", new RenderWorker(inspected.Reader, deliveries.Writer, composer, options, archive, intake, services.GetService<LiveFeed>(), stats,
            decided, loggers.CreateLogger<RenderWorker>()).RunAsync);
        var publish = Loop("publish", new PublishWorker(deliveries.Reader, outbox, reviews, loggers.CreateLogger<PublishWorker>()).RunAsync);
        foreach (var worker in workers)
            captureTasks.Add(Task.Run(() => worker.RunAsync(captureStop.Token)));
        drained = Task.WhenAll(inspection, render, publish);
        if (options.StatsIntervalSeconds > 0)
            statsLoop = PublishStatsAsync(TimeSpan.FromSeconds(options.StatsIntervalSeconds), hardStop.Token);
        if (archive is not null)
            archiveLoop = PruneArchiveAsync(archive, hardStop.Token);
        // Health: what /healthz watches (a loop that faults) and /readyz reports (the model).
        var loops = new Dictionary<string, Task> { ["inspection"] = inspection, ["render"] = render, ["publish"] = publish, ["status"] = statusLoop, ["triggers"] = triggerLoop, ["stats"] = statsLoop, ["delivery"] = dispatchLoop };
        for (int i = 0; i < workers.Count; i++) loops[$"camera '{cameras.Value.Cameras[i].Name}'"] = captureTasks[i];
        health.Started(new ServingModel(modelRef, model, method, layer), loops);

        logger.LogInformation("DefectInspector running: {Cameras} camera(s), model {ModelName} {ModelVersion}, method {Method}/{Layer}. Watch with: mosquitto_sub -V mqttv5 -i watch -h {Host} -p {Port} -t '{Topics}/#' -v",
            workers.Count, modelRef.Name, modelRef.Version, method, layer, MqttIdentity.BrokerHost(mqtt.Value), mqtt.Value.Port, topics.Root);
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        health.Stopping();
        var drainTimeout = TimeSpan.FromSeconds(pipelineOptions.Value.DrainTimeoutSeconds);
        logger.LogInformation("Stopping: capture stops, queued frames drain for up to {DrainSeconds} s", drainTimeout.TotalSeconds);
        await captureStop.CancelAsync();
        await WaitAsync(Task.WhenAll(captureTasks), drainTimeout, "capture");
        desk.Close();
        if (!await WaitAsync(drained, drainTimeout, "drain"))
            logger.LogWarning("Frames still queued after {DrainSeconds} s are abandoned undecided (a folder source offers them again at the next start)", drainTimeout.TotalSeconds);
        await hardStop.CancelAsync();
        await WaitAsync(drained, TimeSpan.FromSeconds(5), "cancel");
        await AnswerUndecidedTriggersAsync();
        await WaitAsync(triggerLoop, TimeSpan.FromSeconds(5), "trigger replies");
        await DeliverAsync(TimeSpan.FromSeconds(pipelineOptions.Value.DeliveryDrainSeconds));
        await statsLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await archiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var camera in cameras.Value.Cameras)
            status.Set(camera.Name, CameraStates.Offline, "daemon stopped");
        status.Changed -= OnCameraStatus;
        alarms.Changed -= OnAlarms;
        reporter.Complete();
        await WaitAsync(statusLoop, TimeSpan.FromSeconds(5), "status");
        await sparkplug.StopAsync(cancellation);
        await publisher.StopAsync(cancellation);
    }

    public ValueTask DisposeAsync()
    {
        // A call stuck in native code (what StallExit stops the daemon for) still uses its source or the model: freed
        // under it, the process could crash on the way out and lose the exit code that says why it stopped.
        for (int i = 0; i < sources.Count; i++)
            if (i >= captureTasks.Count || captureTasks[i].IsCompleted) sources[i].Dispose();
        if (inspectionLoop.IsCompleted) engine?.Dispose();
        captureStop.Dispose();
        hardStop.Dispose();
        dispatchStop.Dispose();
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
        Model = engine is null ? null : new ModelReference(engine.Metadata.Name, engine.Metadata.Version, engine.Sha256),
        ConfigHash = configHash,
        Cameras = status.States,
        Alarms = alarms.Current,
    };

    /// <summary>
    /// A triggered frame still queued when the drain time is up gets its error verdict (timeout) in the outbox, so the
    /// trigger is answered at the latest after the next start. Other abandoned frames are offered again by their source
    /// where it can.
    /// </summary>
    private async Task AnswerUndecidedTriggersAsync()
    {
        foreach (var queue in queues)
            while (queue.Reader.TryRead(out var frame))
            {
                using (frame)
                    if (frame.Trigger is not null && errors is not null)
                        await errors.ReportAsync(frame, ResultCodes.Timeout, "the station stopped before the part was decided", CancellationToken.None);
            }
    }

    /// <summary>What the pipeline stored is published for at most <paramref name="timeout"/>; the rest waits in the outbox.</summary>
    private async Task DeliverAsync(TimeSpan timeout)
    {
        await WaitAsync(WhenDeliveredAsync(dispatchStop.Token), timeout, "delivery");
        await dispatchStop.CancelAsync();
        await WaitAsync(dispatchLoop, TimeSpan.FromSeconds(5), "delivery");
        long left = outbox.Depth;
        if (left > 0)
            logger.LogWarning("{Count} message(s) not acknowledged by the broker stay in the outbox {Path}; they are delivered after the next start", left, storage.Value.OutboxFile);
        else
            logger.LogInformation("Outbox empty: every stored message was acknowledged by the broker");
    }

    private async Task WhenDeliveredAsync(CancellationToken cancellation)
    {
        while (outbox.Depth > 0)
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellation);
    }

    private SnapshotArchive? CreateArchive()
    {
        var o = storage.Value;
        return o.SnapshotArchiveDays == 0 ? null
            : new SnapshotArchive(o.SnapshotFolder, TimeSpan.FromDays(o.SnapshotArchiveDays), o.SnapshotArchiveMaxMegabytes * 1024L * 1024L, TimeProvider.System, loggers.CreateLogger<SnapshotArchive>());
    }

    /// <summary>At start and every ten minutes: retention is in days, so pruning more often would only cost disk reads.</summary>
    private async Task PruneArchiveAsync(SnapshotArchive archive, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10));
        do
        {
            try
            {
                await Task.Run(archive.Prune, cancellation);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A folder someone else touched mid-prune: the next round sees the archive as it is then.
                logger.LogWarning("Snapshot archive {Folder} could not be pruned: {Reason}", archive.Folder, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellation));
    }

    private void OnAlarms() => reporter.Post(BuildStatus());

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
    private Task Loop(string name, Func<CancellationToken, Task> body) => Loop(name, body, hardStop.Token);

    private Task Loop(string name, Func<CancellationToken, Task> body, CancellationToken stop) => Task.Run(async () =>
    {
        try
        {
            await body(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
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
