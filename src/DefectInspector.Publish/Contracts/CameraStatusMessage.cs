namespace DefectInspector.Publish.Contracts;

/// <summary>The retained status of one camera.</summary>
public sealed record CameraStatusMessage
{
    public string Schema { get; init; } = SchemaVersion.Current;

    public required string Camera { get; init; }

    /// <summary>online, offline or degraded (<see cref="CameraStates"/>).</summary>
    public required string State { get; init; }

    /// <summary>Why the camera is not online (the last error), null when it is.</summary>
    public string? Reason { get; init; }

    public required DateTimeOffset At { get; init; }
}

public static class CameraStates
{
    public const string Online = "online";
    public const string Offline = "offline";
    public const string Degraded = "degraded";
}
