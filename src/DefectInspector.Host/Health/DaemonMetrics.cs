using DefectInspector.Core.Decision;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Publish;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using Prometheus;

namespace DefectInspector.Host.Health;

/// <summary>
/// The daemon's Prometheus metrics, in a registry of its own (not prometheus-net's static default), so that each
/// host in a process (the bench runs several) exports only its own pipeline, plus prometheus-net's process metrics.
/// Counters and states are read from <see cref="PipelineStats"/>, the camera board and the publisher at each scrape,
/// so /metrics and the MQTT stats message never disagree; only the stage histograms are fed per frame.
/// </summary>
internal sealed class DaemonMetrics
{
    private const string Prefix = "defectinspector_";
    private static readonly string[] CameraStateNames = [CameraStates.Online, CameraStates.Offline, CameraStates.Degraded];

    private readonly PipelineStats stats;
    private readonly CameraStatusBoard cameras;
    private readonly MqttPublisher publisher;
    private readonly IOutboxBacklog? outbox;
    private readonly Counter captured, dropped, failed, verdicts;
    private readonly Histogram stages;
    private readonly Gauge brokerConnected, cameraState;
    private readonly Gauge? outboxDepth, outboxOldestAge;

    public DaemonMetrics(PipelineStats stats, CameraStatusBoard cameras, MqttPublisher publisher, IEnumerable<IOutboxBacklog> outboxes)
    {
        this.stats = stats;
        this.cameras = cameras;
        this.publisher = publisher;
        outbox = outboxes.LastOrDefault();
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        var factory = Metrics.WithCustomRegistry(Registry);

        captured = factory.CreateCounter(Prefix + "frames_captured_total", "Frames a camera handed to inspection.", ["camera"]);
        dropped = factory.CreateCounter(Prefix + "frames_dropped_total", "Frames a live camera dropped because inspection was behind.", ["camera"]);
        failed = factory.CreateCounter(Prefix + "frames_failed_total", "Frames that could not be inspected (unreadable, outside the region of interest, a failed batch).", ["camera"]);
        verdicts = factory.CreateCounter(Prefix + "verdicts_total", "Decided frames by verdict: ok, ng, uncertain.", ["camera", "verdict"]);
        stages = factory.CreateHistogram(Prefix + "stage_duration_seconds",
            "Time per frame in each pipeline stage, as in the verdict's timingsMs: queue, preprocess, inference (the whole batch), regions, render, total (capture to decision message).",
            ["camera", "stage"],
            new HistogramConfiguration { Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        brokerConnected = factory.CreateGauge(Prefix + "broker_connected", "1 while the MQTT connection is up, else 0.");
        cameraState = factory.CreateGauge(Prefix + "camera_state", "1 for the camera's current state (online, offline, degraded), 0 for the others.", ["camera", "state"]);
        if (outbox is not null)
        {
            outboxDepth = factory.CreateGauge(Prefix + "outbox_depth", "Messages in the durable outbox not yet acknowledged by the broker.");
            outboxOldestAge = factory.CreateGauge(Prefix + "outbox_oldest_age_seconds", "Age of the oldest message waiting in the outbox; 0 when it is empty.");
        }

        stats.FrameDecided += ObserveStages;
        Registry.AddBeforeCollectCallback(Refresh);
    }

    public CollectorRegistry Registry { get; }

    private void ObserveStages(string camera, Verdict verdict, IReadOnlyDictionary<string, double> timingsMs)
    {
        foreach (var (stage, ms) in timingsMs)
            stages.WithLabels(camera, stage).Observe(ms / 1000);
    }

    private void Refresh()
    {
        foreach (var (camera, s) in stats.Snapshot().Cameras)
        {
            captured.WithLabels(camera).IncTo(s.FramesCaptured);
            dropped.WithLabels(camera).IncTo(s.FramesDropped);
            failed.WithLabels(camera).IncTo(s.Failed);
            verdicts.WithLabels(camera, MessageComposer.ToWire(Verdict.Ok)).IncTo(s.Ok);
            verdicts.WithLabels(camera, MessageComposer.ToWire(Verdict.Ng)).IncTo(s.Ng);
            verdicts.WithLabels(camera, MessageComposer.ToWire(Verdict.Uncertain)).IncTo(s.Uncertain);
        }
        brokerConnected.Set(publisher.IsConnected ? 1 : 0);
        foreach (var camera in cameras.All)
            foreach (string state in CameraStateNames)
                cameraState.WithLabels(camera.Camera, state).Set(camera.State == state ? 1 : 0);
        if (outbox is not null)
        {
            var backlog = outbox.Current;
            outboxDepth!.Set(backlog.Depth);
            outboxOldestAge!.Set(backlog.OldestQueuedAt is { } oldest ? Math.Max(0, (DateTimeOffset.UtcNow - oldest).TotalSeconds) : 0);
        }
    }
}
