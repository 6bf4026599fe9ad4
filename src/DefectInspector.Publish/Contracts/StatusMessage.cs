namespace DefectInspector.Publish.Contracts;

/// <summary>The retained station status; <c>offline</c> is also the Last Will.</summary>
public sealed record StatusMessage
{
    public string Schema { get; init; } = SchemaVersion.Current;

    /// <summary>online or offline (<see cref="StationStates"/>).</summary>
    public required string State { get; init; }

    public required string Site { get; init; }

    public required string Line { get; init; }

    public required string Station { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>The product version; null in the Last Will (set before start-up knows more).</summary>
    public string? Version { get; init; }

    public ModelReference? Model { get; init; }

    /// <summary>The hash of the station descriptor in force (the retained <c>config</c> message).</summary>
    public string? ConfigHash { get; init; }

    /// <summary>Per camera: online, offline or degraded.</summary>
    public IReadOnlyDictionary<string, string>? Cameras { get; init; }

    /// <summary>Conditions an operator must act on (<see cref="AlarmCodes"/>); null while there are none.</summary>
    public IReadOnlyList<AlarmMessage>? Alarms { get; init; }
}

public static class StationStates
{
    public const string Online = "online";
    public const string Offline = "offline";
}
