using DefectInspector.Publish.Connection;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Publish.Tests.Support;

/// <summary>Publishers for tests: short keep-alive and backoff so outages are noticed and healed in about a second.</summary>
public static class Publishers
{
    public static MqttPublisher Create(int port, ListLogger log, string station = "st1", Action<MqttOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new MqttOptions { Host = "127.0.0.1", Port = port, KeepAliveSeconds = 2 };
        configure?.Invoke(options);
        return new MqttPublisher(options, Samples.Topics(station), Samples.Status(station), log, time) { Timing = Fast };
    }

    /// <summary>Backoff and timeouts short enough that a test sees an outage healed in about a second.</summary>
    internal static readonly MqttConnectionTiming Fast = new()
    {
        ReconnectDelay = TimeSpan.FromMilliseconds(200),
        MaxReconnectDelay = TimeSpan.FromSeconds(1),
        FirstConnectAttempts = 2,
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary><see cref="Create"/>, then <see cref="MqttPublisher.StartAsync"/>.</summary>
    public static async Task<MqttPublisher> StartAsync(int port, ListLogger? log = null, string station = "st1", Action<MqttOptions>? configure = null)
    {
        var publisher = Create(port, log ?? new ListLogger(), station, configure);
        try
        {
            await publisher.StartAsync(CancellationToken.None);
            return publisher;
        }
        catch
        {
            await publisher.DisposeAsync();
            throw;
        }
    }

    public static StatusMessage ReadStatus(Received message) => MessageJson.Deserialize<StatusMessage>(message.Payload);

    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
}
