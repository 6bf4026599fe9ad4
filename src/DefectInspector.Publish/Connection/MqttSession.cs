using MQTTnet;

namespace DefectInspector.Publish.Connection;

/// <summary>What a user brings to an <see cref="MqttConnection"/>: its Last Will and what each new connection needs.</summary>
internal sealed record MqttSession
{
    /// <summary>Names the connection in its log lines ("MQTT", "Sparkplug").</summary>
    public required string Label { get; init; }

    /// <summary>The fixed part of the Last Will: topic, QoS, retain, content type.</summary>
    public required Action<MqttClientOptionsBuilder> Will { get; init; }

    /// <summary>The Will's payload, made again before every CONNECT (it may carry a time or a sequence number).</summary>
    public required Func<byte[]> WillPayload { get; init; }

    /// <summary>
    /// Runs after every CONNACK, before the connection counts as up (subscriptions, retained state). A failure drops
    /// the connection and the attempt is retried.
    /// </summary>
    public required Func<CancellationToken, Task> SetUpAsync { get; init; }

    /// <summary>Ends the warning on a lost connection: what happens to the user's messages meanwhile.</summary>
    public required string WhileLost { get; init; }

    /// <summary>What the broker publishes when the connection dies uncleanly, for the warning on a failed close.</summary>
    public required string WillName { get; init; }

    /// <summary>MQTT 5 Maximum Packet Size asked of the broker; null leaves it unlimited.</summary>
    public int? MaxIncomingPacketBytes { get; init; }
}
