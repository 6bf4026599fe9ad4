using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Health;

/// <summary>Answers /healthz and /readyz from the daemon's live state.</summary>
internal sealed class HealthProbe
{
    private readonly PipelineHealth pipeline;
    private readonly StageMonitor monitor;
    private readonly CameraStatusBoard cameras;
    private readonly MqttPublisher publisher;
    private readonly IReadOnlyList<string> cameraNames;
    private readonly TimeSpan stallLimit;
    private volatile BrokerState broker;

    public HealthProbe(PipelineHealth pipeline, StageMonitor monitor, CameraStatusBoard cameras, MqttPublisher publisher,
        IOptions<CamerasOptions> cameraOptions, IOptions<PipelineOptions> pipelineOptions)
    {
        this.pipeline = pipeline;
        this.monitor = monitor;
        this.cameras = cameras;
        this.publisher = publisher;
        cameraNames = cameraOptions.Value.Cameras.Select(c => c.Name).ToList();
        stallLimit = TimeSpan.FromSeconds(pipelineOptions.Value.StallTimeoutSeconds);
        broker = new BrokerState(false, $"not connected to {publisher.Endpoint} yet");
        // The publisher says why a connection ended only at that moment; keep it for the readiness answer.
        publisher.ConnectionChanged += change => broker = change.IsConnected
            ? new BrokerState(true, $"connected to {change.Endpoint}")
            : new BrokerState(false, $"not connected to {change.Endpoint}: {change.Reason}");
    }

    public LivenessReport Liveness() =>
        LivenessReport.Evaluate(pipeline.Model is not null, pipeline.IsStopping, pipeline.Loops, monitor.Stalled(stallLimit), stallLimit);

    public ReadinessReport Readiness()
    {
        bool connected = publisher.IsConnected;
        var last = broker;
        // The client notices a lost connection a moment before ConnectionChanged says why.
        string detail = last.Connected == connected ? last.Detail
            : connected ? $"connected to {publisher.Endpoint}" : $"not connected to {publisher.Endpoint}";
        return ReadinessReport.Evaluate(pipeline.Model, connected, detail, cameraNames, cameras.All.ToDictionary(c => c.Camera));
    }

    private sealed record BrokerState(bool Connected, string Detail);
}
