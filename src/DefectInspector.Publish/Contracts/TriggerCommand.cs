using System.Text.Json;

namespace DefectInspector.Publish.Contracts;

/// <summary>
/// A trigger command for a camera in triggered mode: capture the next part and carry its id.
/// <see cref="CommandId"/> makes a repeated delivery harmless (a second command with the same id within the
/// de-duplication window is refused); <see cref="Context"/> (lot, order, recipe, ...) comes back verbatim in the verdict.
/// </summary>
public sealed record TriggerCommand(string PartId, string? CommandId = null, JsonElement? Context = null);

/// <summary>
/// The answer to a trigger, on the MQTT 5 response topic the trigger named, with its correlation data: accepted once
/// the camera has captured the part's frame (the verdict with <see cref="VerdictId"/> follows), or rejected with why.
/// </summary>
public sealed record TriggerReply
{
    public string Schema { get; init; } = SchemaVersion.Current;

    public required string Camera { get; init; }

    public string? PartId { get; init; }

    public string? CommandId { get; init; }

    /// <summary>accepted or rejected (<see cref="TriggerResults"/>).</summary>
    public required string Result { get; init; }

    /// <summary><c>accepted</c>, or why the trigger was refused (<see cref="ResultCodes"/>).</summary>
    public required string ResultCode { get; init; }

    public required int ResultNumber { get; init; }

    /// <summary>For people: what was wrong and what was expected.</summary>
    public string? Message { get; init; }

    /// <summary>The id the part's verdict will carry; only when accepted.</summary>
    public string? VerdictId { get; init; }

    public required DateTimeOffset At { get; init; }
}

public static class TriggerResults
{
    public const string Accepted = "accepted";
    public const string Rejected = "rejected";
}
