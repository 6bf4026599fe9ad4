using DefectInspector.Host.Capture;
using DefectInspector.Host.Hosting;
using DefectInspector.Publish;
using Microsoft.Extensions.Hosting;

namespace DefectInspector.Host.Publish;

/// <summary>
/// The station's broker connections: the JSON contract's (triggers in; the retained config and status out, again after
/// every reconnect) and, when enabled, the Sparkplug edge node's. Starts once the model is loaded, so the first
/// status and the births describe it; stops last, after the station has said it is offline.
/// </summary>
internal sealed class BrokerService(
    MqttPublisher publisher, SparkplugEdge sparkplug, TriggerDesk desk, Topics topics, LineModel line, StationStatus status) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellation)
    {
        await publisher.SubscribeTriggersAsync(desk.OnTriggerAsync, cancellation);
        await publisher.PublishRetainedAsync(OutgoingMessages.Config(topics, line.Descriptor), cancellation);
        publisher.SetStatus(status.Now());
        await publisher.StartAsync(cancellation);
        await sparkplug.StartAsync(line.Descriptor, cancellation);
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        await sparkplug.StopAsync(cancellation);
        await publisher.StopAsync(cancellation);
    }
}
