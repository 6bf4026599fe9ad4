using System.Collections.Concurrent;
using DefectInspector.Host.Capture;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Sparkplug;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Publish;

/// <summary>
/// The station as a Sparkplug B edge node (Sparkplug:Enabled; docs/sparkplug.md): its cameras are the devices, each
/// verdict a DDATA whose last verdict id is the JSON verdict's, each camera state change a DDATA, and the device
/// command <c>Trigger/Part Id</c> a trigger like one on <c>trigger/&lt;camera&gt;</c>. A no-op when disabled.
/// </summary>
internal sealed class SparkplugEdge(
    IOptions<SparkplugOptions> options, IOptions<MqttOptions> mqtt, IOptions<StorageOptions> storage, IOptions<CamerasOptions> cameras,
    StationIdentity station, CameraStatusBoard status, PipelineStats stats, DecidedVerdicts verdicts, TriggerDesk desk, TimeProvider time, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, VerdictMessage> last = new(StringComparer.Ordinal);
    private SparkplugNode? node;

    /// <summary>The edge node's MQTT connection is the station's client id with this after it.</summary>
    public const string ClientIdSuffix = "-sparkplug";

    public static string GroupIdOf(SparkplugOptions o, StationIdentity station) => o.GroupId.Length > 0 ? o.GroupId : $"{station.Site}-{station.Line}";

    public static string EdgeNodeIdOf(SparkplugOptions o, StationIdentity station) => o.EdgeNodeId.Length > 0 ? o.EdgeNodeId : station.Station;

    public static SparkplugTopics TopicsOf(SparkplugOptions o, StationIdentity station) => new(GroupIdOf(o, station), EdgeNodeIdOf(o, station));

    /// <summary>Connects and sends the births; like the JSON publisher, a broker that is away is waited for in the background.</summary>
    public async Task StartAsync(StationConfigMessage descriptor, CancellationToken cancellation)
    {
        var o = options.Value;
        if (!o.Enabled) return;
        var logger = loggers.CreateLogger<SparkplugNode>();
        var properties = new Dictionary<string, string>
        {
            ["Version"] = descriptor.Version,
            ["Model Name"] = descriptor.Model.Name,
            ["Model Version"] = descriptor.Model.Version,
            ["Model Sha256"] = descriptor.Model.Sha256,
            ["Config Hash"] = descriptor.ConfigHash,
        };
        string clientId = MqttIdentity.ClientId(mqtt.Value, station.Site, station.Line, station.Station) + ClientIdSuffix;
        node = new SparkplugNode(mqtt.Value, GroupIdOf(o, station), EdgeNodeIdOf(o, station), clientId, cameras.Value.Cameras.Select(c => c.Name).ToList(),
            properties, Metrics, storage.Value.ResolvedPath, logger, time)
        {
            HistoryCapacity = o.HistoryCapacity,
        };
        node.TriggerReceived = OnTriggerAsync;
        verdicts.Decided += OnDecided;
        status.Changed += OnCameraStatus;
        try
        {
            await node.StartAsync(cancellation);
        }
        catch (MqttConnectException e)
        {
            logger.LogWarning("Sparkplug edge node not connected yet ({Reason}); it keeps trying", e.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        if (node is null) return;
        verdicts.Decided -= OnDecided;
        status.Changed -= OnCameraStatus;
        await node.StopAsync(cancellation);
    }

    public async ValueTask DisposeAsync()
    {
        if (node is not null) await node.DisposeAsync();
    }

    private SparkplugDeviceMetrics Metrics(string camera)
    {
        var counts = stats.Snapshot().Cameras.GetValueOrDefault(camera);
        var verdict = last.GetValueOrDefault(camera);
        return new SparkplugDeviceMetrics(
            status.States.GetValueOrDefault(camera, CameraStates.Offline), counts?.Fps ?? 0,
            (ulong)(counts?.Ok ?? 0), (ulong)(counts?.Ng ?? 0), (ulong)(counts?.Uncertain ?? 0), (ulong)(counts?.Errors ?? 0),
            verdict?.Verdict, verdict?.ResultCode, verdict?.DefectScore, verdict?.PredictedClass, verdict?.PartId, verdict?.Id);
    }

    private void OnDecided(VerdictMessage verdict)
    {
        last[verdict.Camera] = verdict;
        node?.Decided(verdict.Camera, Metrics(verdict.Camera), verdict.DecidedAt);
    }

    private void OnCameraStatus(CameraStatusMessage message) => node?.StateChanged(message.Camera, Metrics(message.Camera));

    private Task OnTriggerAsync(string camera, string partId) =>
        desk.OnTriggerAsync(new TriggerRequest(camera, TopicsOf(options.Value, station).DeviceCommand(camera),
            new TriggerCommand(partId), null, null, ReadOnlyMemory<byte>.Empty, DateTimeOffset.UtcNow, null));
}
