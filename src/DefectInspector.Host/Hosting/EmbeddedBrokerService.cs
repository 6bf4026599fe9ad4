using DefectInspector.Host.Hmi;
using DefectInspector.Host.Publish;
using DefectInspector.Publish;
using DefectInspector.Publish.Sparkplug;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// With Mqtt:Host empty, runs the embedded MQTT broker so the product works with nothing else installed. Only the
/// daemon publishes the station's topics there; others may trigger (and command the Sparkplug node) and subscribe.
/// </summary>
internal sealed class EmbeddedBrokerService(
    IOptions<MqttOptions> options, IOptions<SparkplugOptions> sparkplug, StationIdentity station, ILogger<EmbeddedBrokerService> logger) : IHostedService, IAsyncDisposable
{
    private EmbeddedBroker? broker;

    public async Task StartAsync(CancellationToken cancellation)
    {
        var o = options.Value;
        if (!o.UsesEmbeddedBroker) return;
        broker = await EmbeddedBroker.StartAsync(o.EmbeddedBindAddress, o.Port, NullIfEmpty(o.Username), MqttCredentials.Password(o), Access(o), logger);
    }

    // The pipeline stops first (reverse start order) and publishes its offline status through this broker.
    public async Task StopAsync(CancellationToken cancellation)
    {
        if (broker is not null) await broker.DisposeAsync();
        broker = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (broker is not null) await broker.DisposeAsync();
    }

    private EmbeddedBrokerAccess Access(MqttOptions o)
    {
        string clientId = MqttIdentity.ClientId(o, station.Site, station.Line, station.Station);
        var topics = new Topics(o.TopicPrefix, station.Site, station.Line, station.Station);
        List<string> open = [topics.Trigger("+")];
        List<string> retained = [];
        if (sparkplug.Value.Enabled)
        {
            var node = SparkplugEdge.TopicsOf(sparkplug.Value, station);
            open.AddRange([node.NodeCommand, node.DeviceCommands]);
            // A Sparkplug primary host application announces itself with a retained STATE message.
            retained.Add(SparkplugTopics.HostStates);
        }
        return new EmbeddedBrokerAccess
        {
            ReservedClientIds = [clientId, clientId + SparkplugEdge.ClientIdSuffix],
            PublicTopics = open,
            PublicRetainedTopics = retained,
            Users = o.EmbeddedUsers.Select(u => new BrokerUser(u.Name, u.Role, password => Passwords.Verify(u.PasswordHash, password))).ToList(),
            MaxPacketBytes = o.MaxIncomingPacketBytes,
        };
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
