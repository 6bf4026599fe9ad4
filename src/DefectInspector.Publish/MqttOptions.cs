namespace DefectInspector.Publish;

/// <summary>Configuration section "Mqtt": the broker the daemon publishes to, or the embedded one.</summary>
public sealed class MqttOptions
{
    public const string Section = "Mqtt";

    /// <summary>Broker host name or address; empty = start the embedded broker and publish to it.</summary>
    public string Host { get; set; } = "";

    /// <summary>Broker port; also the embedded broker's listening port.</summary>
    public int Port { get; set; } = 1883;

    /// <summary>First topic level; topics are &lt;prefix&gt;/&lt;site&gt;/&lt;line&gt;/&lt;station&gt;/... (docs/mqtt.md).</summary>
    public string TopicPrefix { get; set; } = "defect-inspector";

    /// <summary>MQTT client id; empty = derived from site, line and station, so stations never collide.</summary>
    public string ClientId { get; set; } = "";

    public bool UseTls { get; set; }

    /// <summary>PEM file of the CA that signed the broker's certificate; empty = the system's trust store.</summary>
    public string CaFile { get; set; } = "";

    /// <summary>PEM client certificate and key for brokers that require them.</summary>
    public string ClientCertificateFile { get; set; } = "";

    public string ClientKeyFile { get; set; } = "";

    public string Username { get; set; } = "";

    /// <summary>A file whose first line is the password (keeps it out of config files and process listings).</summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>The password itself, for environment variables (DEFECTINSPECTOR_Mqtt__Password); never logged.</summary>
    public string Password { get; set; } = "";

    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>
    /// The largest packet the broker may send the daemon (MQTT 5 Maximum Packet Size); a larger trigger is dropped by
    /// the broker, never read. Outgoing snapshots are not limited by it.
    /// </summary>
    public int MaxIncomingPacketBytes { get; set; } = 256 * 1024;

    /// <summary>Embedded broker only: the address it listens on. Loopback unless you mean the whole network to reach it.</summary>
    public string EmbeddedBindAddress { get; set; } = "127.0.0.1";

    /// <summary>True when no external broker is configured.</summary>
    public bool UsesEmbeddedBroker => string.IsNullOrWhiteSpace(Host);
}
