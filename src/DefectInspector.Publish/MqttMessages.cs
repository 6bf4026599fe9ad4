using System.Buffers;
using System.Text;
using DefectInspector.Publish.Contracts;
using MQTTnet;
using MQTTnet.Protocol;

namespace DefectInspector.Publish;

/// <summary>The publisher's messages as MQTT 5 packets: QoS 1, with their content type, correlation and schema.</summary>
internal static class MqttMessages
{
    public static MqttApplicationMessage From(OutgoingMessage message)
    {
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(message.Topic)
            .WithPayload(new ReadOnlySequence<byte>(message.Payload))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithRetainFlag(message.Retain);
        if (!string.IsNullOrEmpty(message.ContentType))
        {
            builder.WithContentType(message.ContentType);
            if (message.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
                || message.ContentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase))
            {
                builder.WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData);
            }
        }

        if (message.CorrelationId is { } correlation)
        {
            builder.WithCorrelationData(Encoding.UTF8.GetBytes(correlation));
        }

        if (message.Schema is { } schema)
        {
            builder.WithUserProperty(SchemaVersion.UserProperty, new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(schema)));
        }

        return builder.Build();
    }

    /// <summary>A PUBACK that means the broker took the message (no subscriber is not a failure).</summary>
    public static bool IsAccepted(MqttClientPublishReasonCode code) =>
        code is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers;
}
