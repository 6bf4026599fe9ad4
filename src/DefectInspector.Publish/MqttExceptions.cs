using MQTTnet;

namespace DefectInspector.Publish;

/// <summary>The broker could not be reached or refused the connection; names host:port and why.</summary>
public sealed class MqttConnectException(string endpoint, string reason, Exception? inner = null)
    : Exception($"cannot connect to the MQTT broker at {endpoint}: {reason}", inner)
{
    public string Endpoint { get; } = endpoint;

    public string Reason { get; } = reason;
}

/// <summary>The broker answered a publish with a failure reason code (for example not authorized); retrying won't help.</summary>
public sealed class MqttPublishRejectedException(string topic, MqttClientPublishReasonCode reasonCode, string? reasonString)
    : Exception($"the MQTT broker rejected the message on {topic}: {reasonCode}{(string.IsNullOrEmpty(reasonString) ? "" : $" ({reasonString})")}")
{
    public string Topic { get; } = topic;

    public MqttClientPublishReasonCode ReasonCode { get; } = reasonCode;
}

/// <summary>A CONNACK with a failure reason code; internal, it becomes an <see cref="MqttConnectException"/> reason.</summary>
internal sealed class BrokerRefusedException(MqttClientConnectResultCode resultCode, string? reasonString)
    : Exception($"refused by the broker: {resultCode}{(string.IsNullOrEmpty(reasonString) ? "" : $" ({reasonString})")}")
{
    public MqttClientConnectResultCode ResultCode { get; } = resultCode;

    public string? ReasonString { get; } = reasonString;
}
