using DefectInspector.Publish.Contracts;

namespace DefectInspector.Publish;

/// <summary>
/// A trigger as it arrived on <c>trigger/&lt;camera&gt;</c>: the command, or the <see cref="Problem"/> that kept it from
/// being one; the MQTT 5 response topic and correlation data a reply goes back with; and how long the sender gave it
/// (the message expiry interval the broker passed on, null when it set none).
/// </summary>
public sealed record TriggerRequest(
    string Camera, string Topic, TriggerCommand? Command, string? Problem, string? ResponseTopic, ReadOnlyMemory<byte> CorrelationData,
    DateTimeOffset ReceivedAt, TimeSpan? ExpiresIn);
