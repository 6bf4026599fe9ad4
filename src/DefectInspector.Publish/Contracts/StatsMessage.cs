namespace DefectInspector.Publish.Contracts;

/// <summary>Periodic counters since start, per camera.</summary>
public sealed record StatsMessage
{
    public string Schema { get; init; } = SchemaVersion.Current;

    public required DateTimeOffset At { get; init; }

    public required double UptimeSeconds { get; init; }

    public required IReadOnlyDictionary<string, CameraStats> Cameras { get; init; }
}

/// <summary>
/// One camera's counters. <see cref="Failed"/> counts frames that were not decided, <see cref="Errors"/> those of them
/// that answered a trigger with an <c>error</c> verdict.
/// </summary>
public sealed record CameraStats(long FramesCaptured, long FramesDropped, long Ok, long Ng, long Uncertain, long Failed, long Errors, double Fps, double LatencyP50Ms, double LatencyP99Ms);
