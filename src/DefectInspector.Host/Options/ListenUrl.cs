using System.Net;

namespace DefectInspector.Host.Options;

/// <summary>
/// The http://ADDRESS:PORT form of the daemon's web listeners (Health:Url, Hmi:Url): plain http with an IP address
/// or "localhost", a port 1 to 65535 and no path. Kestrel binds addresses, not names, and the paths are fixed.
/// </summary>
public static class ListenUrl
{
    public const string Expected = "an http:// URL with an IP address or localhost and a port 1 to 65535, e.g. " +
        "http://127.0.0.1:8080 (http://0.0.0.0:8080 for every interface), or empty to turn it off";

    public static bool TryParse(string text, out ListenEndpoint endpoint)
    {
        endpoint = default;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri)) return false;
        if (uri.Scheme != Uri.UriSchemeHttp || uri.UserInfo.Length > 0 || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            return false;
        if (uri.Port is < 1 or > 65535) return false;
        if (uri.IsLoopback && uri.HostNameType == UriHostNameType.Dns && uri.Host == "localhost")
        {
            endpoint = new ListenEndpoint(null, uri.Port);
            return true;
        }
        if (uri.HostNameType is not (UriHostNameType.IPv4 or UriHostNameType.IPv6)) return false;
        endpoint = new ListenEndpoint(IPAddress.Parse(uri.DnsSafeHost), uri.Port);
        return true;
    }
}

/// <summary>Where a listener binds; <see cref="Address"/> null = localhost (IPv4 and IPv6 loopback).</summary>
public readonly record struct ListenEndpoint(IPAddress? Address, int Port)
{
    public bool IsLoopback => Address is null || IPAddress.IsLoopback(Address);
}
