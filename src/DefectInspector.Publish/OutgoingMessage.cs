namespace DefectInspector.Publish;

/// <summary>
/// A message ready to go: topic, payload and MQTT 5 properties. <see cref="CorrelationId"/> (the verdict id) travels
/// as correlation data so a snapshot can be matched to its verdict. <see cref="Schema"/> (e.g. <c>verdict/2.0</c>) goes
/// out as the <c>schema</c> user property.
/// </summary>
public sealed record OutgoingMessage(string Topic, ReadOnlyMemory<byte> Payload, string ContentType, bool Retain = false, string? CorrelationId = null, string? Schema = null);

/// <summary>Delivers messages with QoS 1.</summary>
public interface IMessagePublisher
{
    bool IsConnected { get; }

    /// <summary>
    /// Completes once the broker has acknowledged the message. While the broker is unreachable it waits and retries
    /// rather than failing, so a decided verdict is not lost; only <paramref name="cancellation"/> ends the wait.
    /// </summary>
    Task PublishAsync(OutgoingMessage message, CancellationToken cancellation);
}
