namespace DefectInspector.Publish.Connection;

/// <summary>How an <see cref="MqttConnection"/> paces its attempts; tests shorten them.</summary>
internal sealed record MqttConnectionTiming
{
    /// <summary>First delay of the reconnect backoff (exponential, with jitter after the first connect).</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(0.5);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times the first connect tries before it throws.</summary>
    public int FirstConnectAttempts { get; init; } = 3;

    /// <summary>Bounds one CONNECT with its session set-up, and the farewell on close.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
