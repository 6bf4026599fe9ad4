using System.Text.Json;
using System.Text.Json.Serialization;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Publish;

/// <summary>
/// The wire form of every message: UTF-8 JSON, camelCase, null members omitted, timestamps ISO-8601 UTC ('Z').
/// Dictionary keys (class names, camera names, stage names) are written as they are. docs/schema/ holds the schemas.
/// </summary>
public static class MessageJson
{
    /// <summary>The MQTT 5 content type of every JSON payload.</summary>
    public const string ContentType = "application/json";

    /// <summary>What a trigger payload must look like, quoted in errors.</summary>
    public const string TriggerShape = "{\"partId\":\"<part id, 1-256 characters>\"}";

    public const int MaxPartIdLength = 256;

    public static byte[] Serialize(VerdictMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.VerdictMessage);

    public static byte[] Serialize(DefectEvent message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.DefectEvent);

    public static byte[] Serialize(StatusMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.StatusMessage);

    public static byte[] Serialize(CameraStatusMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.CameraStatusMessage);

    public static byte[] Serialize(StatsMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.StatsMessage);

    public static byte[] Serialize(ReviewMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.ReviewMessage);

    public static byte[] Serialize(TriggerCommand message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.TriggerCommand);

    /// <summary>Reads a message this library wrote (tests, tools); throws <see cref="JsonException"/> on a bad payload.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json)
    {
        var info = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>?)MessageJsonContext.Default.GetTypeInfo(typeof(T))
            ?? throw new NotSupportedException($"{typeof(T).Name} is not a message contract");
        return JsonSerializer.Deserialize(utf8Json, info) ?? throw new JsonException($"the payload is JSON null, not a {typeof(T).Name}");
    }

    /// <summary>
    /// Reads a trigger command received on <paramref name="topic"/>. Unknown members are ignored; a payload that is not
    /// JSON, not an object, or lacks a usable partId throws <see cref="MessageFormatException"/> naming the topic and
    /// the expected shape.
    /// </summary>
    public static TriggerCommand ParseTrigger(ReadOnlySpan<byte> utf8Json, string topic)
    {
        TriggerCommand? command;
        try
        {
            command = JsonSerializer.Deserialize(utf8Json, MessageJsonContext.Default.TriggerCommand);
        }
        catch (JsonException e)
        {
            throw new MessageFormatException(topic, TriggerShape, e.Message, e);
        }

        if (command is null || string.IsNullOrWhiteSpace(command.PartId))
        {
            throw new MessageFormatException(topic, TriggerShape, "partId is missing or empty");
        }

        if (command.PartId.Length > MaxPartIdLength)
        {
            throw new MessageFormatException(topic, TriggerShape, $"partId is {command.PartId.Length} characters long");
        }

        return command;
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(VerdictMessage))]
[JsonSerializable(typeof(DefectEvent))]
[JsonSerializable(typeof(StatusMessage))]
[JsonSerializable(typeof(CameraStatusMessage))]
[JsonSerializable(typeof(StatsMessage))]
[JsonSerializable(typeof(TriggerCommand))]
[JsonSerializable(typeof(ReviewMessage))]
internal sealed partial class MessageJsonContext : JsonSerializerContext;
