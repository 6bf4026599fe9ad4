using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DefectInspector.Publish;

/// <summary>
/// Writes every <see cref="DateTimeOffset"/> as ISO-8601 in UTC with a 'Z' (2026-11-27T21:31:13.1234567Z, trailing
/// zeros of the fraction dropped), whatever offset the value carries; reads any ISO-8601 offset back.
/// </summary>
internal sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string? text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        if (text is null || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind | DateTimeStyles.AssumeUniversal, out var value))
        {
            throw new JsonException("expected an ISO-8601 timestamp string such as \"2026-11-27T21:31:13.123Z\"");
        }

        return value.ToUniversalTime();
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
}
