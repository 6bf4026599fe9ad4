namespace DefectInspector.Publish.Connection;

/// <summary>An <see cref="MqttConnection"/> is up and set up: the first time, or again after <paramref name="Downtime"/>.</summary>
internal sealed record MqttConnected(bool Reconnected, TimeSpan Downtime);
