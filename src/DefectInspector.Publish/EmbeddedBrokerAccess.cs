using System.Security.Cryptography;
using MQTTnet;

namespace DefectInspector.Publish;

/// <summary>What a client of the embedded broker may do (docs/security.md, "Embedded broker").</summary>
public static class BrokerRoles
{
    /// <summary>The daemon's own connections: publish anywhere.</summary>
    public const string Daemon = "daemon";

    /// <summary>Subscribe, and publish triggers (and Sparkplug commands when enabled): a PLC gateway, MES, a test bench.</summary>
    public const string Trigger = "trigger";

    /// <summary>Subscribe only: an HMI, a historian, a dashboard.</summary>
    public const string Subscriber = "subscriber";

    /// <summary>The roles a configured user may have.</summary>
    public static IReadOnlyList<string> Configurable { get; } = [Trigger, Subscriber];
}

/// <summary>A user of the embedded broker with a role; the password check comes from whoever holds the hash.</summary>
public sealed record BrokerUser(string Name, string Role, Func<string, bool> PasswordMatches);

/// <summary>
/// The embedded broker's rules. Only the daemon publishes under its topics: a client that could publish there could
/// fake a verdict or a retained "offline" status. Everyone else may publish only to <see cref="PublicTopics"/>
/// (triggers, Sparkplug commands), never retained, and subscribe; nobody else may connect with the daemon's client
/// ids, which would take its session over. Publishes over <see cref="MaxPacketBytes"/> are dropped and their sender
/// disconnected.
/// </summary>
public sealed record EmbeddedBrokerAccess
{
    /// <summary>The daemon's client ids (MQTT and Sparkplug connections).</summary>
    public IReadOnlyList<string> ReservedClientIds { get; init; } = [];

    /// <summary>Topic filters (<c>+</c> for one level, <c>#</c> last) other clients with the trigger role may publish to.</summary>
    public IReadOnlyList<string> PublicTopics { get; init; } = [];

    /// <summary>Topic filters others may also publish retained to (a Sparkplug host application's STATE).</summary>
    public IReadOnlyList<string> PublicRetainedTopics { get; init; } = [];

    /// <summary>Users with roles, beside the one shared user name and password of Mqtt:Username (role trigger).</summary>
    public IReadOnlyList<BrokerUser> Users { get; init; } = [];

    public int MaxPacketBytes { get; init; } = 256 * 1024;

    /// <summary>Whether <paramref name="topic"/> matches <paramref name="filter"/> (MQTT wildcards).</summary>
    public static bool Matches(string filter, string topic)
    {
        var f = filter.Split('/');
        var t = topic.Split('/');
        for (int i = 0; i < f.Length; i++)
        {
            if (f[i] == "#") return true;
            if (i >= t.Length) return false;
            if (f[i] != "+" && f[i] != t[i]) return false;
        }
        return f.Length == t.Length;
    }
}

/// <summary>
/// How the daemon's own connections prove themselves to the embedded broker in the same process: a CONNECT user
/// property carrying a key made at start and never written anywhere, so no configuration or log can leak it.
/// </summary>
internal static class DaemonConnection
{
    public const string Property = "defect-inspector-daemon";

    private static readonly byte[] Key = System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));

    public static MqttClientOptionsBuilder Identify(this MqttClientOptionsBuilder builder, MqttOptions options) =>
        options.UsesEmbeddedBroker ? builder.WithUserProperty(Property, new ReadOnlyMemory<byte>(Key)) : builder;

    /// <summary>Whether a CONNECT's user properties carry the key.</summary>
    public static bool Presented(IReadOnlyCollection<MQTTnet.Packets.MqttUserProperty>? properties) =>
        properties?.Any(p => p.Name == Property && CryptographicOperations.FixedTimeEquals(p.ValueBuffer.Span, Key)) == true;
}
