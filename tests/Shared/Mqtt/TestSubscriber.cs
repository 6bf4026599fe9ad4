using System.Buffers;
using System.Diagnostics;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace DefectInspector.Tests.Shared;

/// <summary>A message as a test subscriber received it.</summary>
public sealed record Received(string Topic, byte[] Payload, string? ContentType, byte[]? CorrelationData, bool Retain, string? Schema = null)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public string? Correlation => CorrelationData is null ? null : Encoding.UTF8.GetString(CorrelationData);
}

/// <summary>An MQTTnet 5 client that subscribes with QoS 1 and collects what arrives, in order.</summary>
public sealed class TestSubscriber : IAsyncDisposable
{
    private readonly IMqttClient client = new MqttClientFactory().CreateMqttClient();
    private readonly MqttClientOptions options;
    private readonly string[] filters;
    private readonly List<Received> received = [];
    private readonly SemaphoreSlim arrived = new(0);

    private TestSubscriber(MqttClientOptions options, string[] filters)
    {
        this.options = options;
        this.filters = filters;
        client.ApplicationMessageReceivedAsync += e =>
        {
            var m = e.ApplicationMessage;
            lock (received)
            {
                string? schema = m.UserProperties?.FirstOrDefault(p => p.Name == "schema")?.ReadValueAsString();
                received.Add(new Received(m.Topic, m.Payload.ToArray(), m.ContentType, (byte[]?)m.CorrelationData?.Clone(), m.Retain, schema));
            }

            arrived.Release();
            return Task.CompletedTask;
        };
    }

    public IReadOnlyList<Received> Received
    {
        get
        {
            lock (received)
            {
                return [.. received];
            }
        }
    }

    public bool IsConnected => client.IsConnected;

    /// <summary>
    /// Connects to 127.0.0.1:<paramref name="port"/> and subscribes to <paramref name="filters"/>. With
    /// <paramref name="sessionExpirySeconds"/> above 0 and a fixed <paramref name="clientId"/> the broker keeps the
    /// session, and queues QoS 1 messages, while this subscriber is away.
    /// </summary>
    public static async Task<TestSubscriber> ConnectAsync(int port, string[] filters, string? clientId = null, uint sessionExpirySeconds = 0,
        string? username = null, string? password = null)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(clientId ?? $"test-subscriber-{Guid.NewGuid():N}")
            .WithCleanStart(sessionExpirySeconds == 0)
            .WithSessionExpiryInterval(sessionExpirySeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(5));
        if (username is not null)
        {
            builder.WithCredentials(username, password);
        }

        var subscriber = new TestSubscriber(builder.Build(), filters);
        await subscriber.ConnectOnceAsync();
        return subscriber;
    }

    /// <summary>
    /// Makes sure the subscriber is connected to the (restarted) broker, connecting again (keeping the session when it
    /// has one) and retrying until <paramref name="within"/>.
    /// </summary>
    public async Task ReconnectAsync(TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // A restarted broker may not have been noticed yet: only an answered ping proves the connection.
                if (client.IsConnected && await client.TryPingAsync())
                {
                    return;
                }

                await client.TryDisconnectAsync();
                await ConnectOnceAsync();
                return;
            }
            catch (Exception) when (clock.Elapsed < within)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// Publishes with QoS 1; <paramref name="responseTopic"/> and <paramref name="correlation"/> ask for an MQTT 5
    /// reply, <paramref name="expirySeconds"/> sets the message expiry interval.
    /// </summary>
    public Task PublishAsync(string topic, string payload, bool retain = false, string? responseTopic = null, byte[]? correlation = null, uint expirySeconds = 0) =>
        PublishAsync(topic, Encoding.UTF8.GetBytes(payload), retain, responseTopic, correlation, expirySeconds);

    /// <summary>As above, with any bytes as the payload (not UTF-8 text, say).</summary>
    public async Task PublishAsync(string topic, byte[] payload, bool retain = false, string? responseTopic = null, byte[]? correlation = null, uint expirySeconds = 0)
    {
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(retain);
        if (responseTopic is not null) builder.WithResponseTopic(responseTopic);
        if (correlation is not null) builder.WithCorrelationData(correlation);
        if (expirySeconds > 0) builder.WithMessageExpiryInterval(expirySeconds);
        await client.PublishAsync(builder.Build(), CancellationToken.None);
    }

    /// <summary>Waits for the first received message (already here or to come) that matches.</summary>
    public async Task<Received> WaitForAsync(Func<Received, bool> match, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var found = Received.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no {what} within {timeout.TotalSeconds} s; received: {string.Join(", ", Received.Select(r => r.Topic))}");
            }

            await arrived.WaitAsync(left);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds for everything received so far.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<Received>, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition(Received))
        {
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds} s; received {Received.Count} messages");
            }

            await arrived.WaitAsync(left);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            await client.TryDisconnectAsync(MqttClientDisconnectOptionsReason.NormalDisconnection, "");
        }

        client.Dispose();
        arrived.Dispose();
    }

    private async Task ConnectOnceAsync()
    {
        var result = await client.ConnectAsync(options, CancellationToken.None);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"test subscriber refused: {result.ResultCode}");
        }

        if (result.IsSessionPresent || filters.Length == 0)
        {
            return;
        }

        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (string filter in filters)
        {
            subscribe.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        await client.SubscribeAsync(subscribe.Build(), CancellationToken.None);
    }
}
