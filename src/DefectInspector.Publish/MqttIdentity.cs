using System.Security.Cryptography;
using System.Text;

namespace DefectInspector.Publish;

/// <summary>Client ids and the broker endpoint a publisher uses; docs/mqtt.md, "Client id".</summary>
public static class MqttIdentity
{
    /// <summary>Longest derived client id; longer ones are cut and keep a hash of the whole so they stay unique.</summary>
    public const int MaxClientIdLength = 64;

    /// <summary><see cref="MqttOptions.ClientId"/> when set, else <c>defect-inspector-&lt;site&gt;-&lt;line&gt;-&lt;station&gt;</c> sanitized.</summary>
    public static string ClientId(MqttOptions options, string site, string line, string station) =>
        string.IsNullOrWhiteSpace(options.ClientId) ? DeriveClientId(site, line, station) : options.ClientId.Trim();

    /// <summary>
    /// Characters other than ASCII letters, digits, '-', '_' and '.' become '-'; an id longer than
    /// <see cref="MaxClientIdLength"/> is cut and ends with 8 hex digits of the SHA-256 of the full id.
    /// </summary>
    public static string DeriveClientId(string site, string line, string station)
    {
        string raw = $"defect-inspector-{site}-{line}-{station}";
        var id = new StringBuilder(raw.Length);
        foreach (char c in raw)
        {
            id.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        }

        if (id.Length <= MaxClientIdLength)
        {
            return id.ToString();
        }

        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(raw)))[..8];
        return $"{id.ToString(0, MaxClientIdLength - 9)}-{hash}";
    }

    /// <summary>The host a publisher connects to: <see cref="MqttOptions.Host"/>, or the embedded broker's address.</summary>
    public static string BrokerHost(MqttOptions options)
    {
        if (!options.UsesEmbeddedBroker)
        {
            return options.Host.Trim();
        }

        return options.EmbeddedBindAddress.Trim() switch
        {
            "" or "0.0.0.0" or "*" => "127.0.0.1",
            "::" or "[::]" => "::1",
            var address => address,
        };
    }
}
