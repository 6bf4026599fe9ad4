namespace DefectInspector.Host.Options;

/// <summary>Configuration section "Health": where /healthz, /readyz and /metrics listen.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary><see cref="ListenUrl"/>; empty = no endpoints. Loopback by default: the endpoints have no authentication.</summary>
    public string Url { get; set; } = DefaultUrl;

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);
}
