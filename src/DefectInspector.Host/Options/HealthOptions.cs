using System.Net;

namespace DefectInspector.Host.Options;

/// <summary>Configuration section "Health": where /healthz, /readyz and /metrics listen.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>http://ADDRESS:PORT; empty = no endpoints. Loopback by default: the endpoints have no authentication.</summary>
    public string Url { get; set; } = DefaultUrl;

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);

    /// <summary>
    /// Plain http with an IP address or "localhost", a port 1 to 65535 and no path: Kestrel binds addresses, not
    /// names, and the endpoints' paths are fixed.
    /// </summary>
    public static bool TryParseUrl(string text, out HealthEndpoint endpoint)
    {
        endpoint = default;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri)) return false;
        if (uri.Scheme != Uri.UriSchemeHttp || uri.UserInfo.Length > 0 || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            return false;
        if (uri.Port is < 1 or > 65535) return false;
        if (uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns && uri.Host == "localhost")
        {
            endpoint = new HealthEndpoint(null, uri.Port);
            return true;
        }
        if (uri.HostNameType is not (UriHostNameType.IPv4 or UriHostNameType.IPv6)) return false;
        endpoint = new HealthEndpoint(IPAddress.Parse(uri.DnsSafeHost), uri.Port);
        return true;
    }
}

/// <summary>Where the health endpoints listen; <see cref="Address"/> null = localhost (IPv4 and IPv6 loopback).</summary>
public readonly record struct HealthEndpoint(IPAddress? Address, int Port)
{
    public bool IsLoopback => Address is null || IPAddress.IsLoopback(Address);
}
