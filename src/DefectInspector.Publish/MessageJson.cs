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
    public const string TriggerShape = "{\"partId\":\"<1-256 characters>\", \"commandId\":\"<optional, 1-128>\", \"context\":{<optional object, at most 4 KiB>}}";

    public const int MaxPartIdLength = 256;

    public const int MaxCommandIdLength = 128;

    public const int MaxContextBytes = 4096;

    /// <summary>A trigger payload above this size is refused unread: parsing is not where a line PC's memory goes.</summary>
    public const int MaxTriggerBytes = 16 * 1024;

    public static byte[] Serialize(VerdictMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.VerdictMessage);

    public static byte[] Serialize(DefectEvent message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.DefectEvent);

    public static byte[] Serialize(StatusMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.StatusMessage);

    public static byte[] Serialize(CameraStatusMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.CameraStatusMessage);

    public static byte[] Serialize(StatsMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.StatsMessage);

    public static byte[] Serialize(ReviewMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.ReviewMessage);

    public static byte[] Serialize(TriggerCommand message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.TriggerCommand);

    public static byte[] Serialize(TriggerReply message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.TriggerReply);

    public static byte[] Serialize(StationConfigMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJsonContext.Default.StationConfigMessage);

    /// <summary>Reads a message this library wrote (tests, tools); throws <see cref="JsonException"/> on a bad payload.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json)
    {
        var info = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>?)MessageJsonContext.Default.GetTypeInfo(typeof(T))
            ?? throw new NotSupportedException($"{typeof(T).Name} is not a message contract");
        return JsonSerializer.Deserialize(utf8Json, info) ?? throw new JsonException($"the payload is JSON null, not a {typeof(T).Name}");
    }

    /// <summary>
    /// Reads a trigger command received on <paramref name="topic"/>. Unknown members are ignored; a payload that is too
    /// large, not JSON, not an object, lacks a usable partId, or has a bad commandId or context throws
    /// <see cref="MessageFormatException"/> naming the topic and the expected shape.
    /// </summary>
    public static TriggerCommand ParseTrigger(ReadOnlySpan<byte> utf8Json, string topic)
    {
        if (utf8Json.Length > MaxTriggerBytes)
        {
            throw new MessageFormatException(topic, TriggerShape, $"the payload is {utf8Json.Length} bytes, at most {MaxTriggerBytes}");
        }

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

        if (command.CommandId is { } id && (string.IsNullOrWhiteSpace(id) || id.Length > MaxCommandIdLength))
        {
            throw new MessageFormatException(topic, TriggerShape, $"commandId must be 1 to {MaxCommandIdLength} characters, not {id.Length}");
        }

        if (command.Context is { } context)
        {
            if (context.ValueKind == JsonValueKind.Null)
            {
                return command with { Context = null };
            }

            if (context.ValueKind != JsonValueKind.Object)
            {
                throw new MessageFormatException(topic, TriggerShape, $"context must be a JSON object, not {context.ValueKind}");
            }

            int size = context.GetRawText().Length;
            if (size > MaxContextBytes)
            {
                throw new MessageFormatException(topic, TriggerShape, $"context is {size} bytes, at most {MaxContextBytes}");
            }
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
[JsonSerializable(typeof(TriggerReply))]
[JsonSerializable(typeof(StationConfigMessage))]
internal sealed partial class MessageJsonContext : JsonSerializerContext;
