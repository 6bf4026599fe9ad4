namespace DefectInspector.Publish.Sparkplug;

/// <summary>
/// Configuration section "Sparkplug": whether the station also speaks Sparkplug B 3.0 as an edge node, on its own MQTT
/// connection to the broker of <see cref="MqttOptions"/> (docs/sparkplug.md).
/// </summary>
public sealed class SparkplugOptions
{
    public const string Section = "Sparkplug";

    public bool Enabled { get; set; }

    /// <summary>The Sparkplug group id (second topic level); empty = derived from the station's site and line.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>The edge node id (fourth topic level); empty = derived from the station's name.</summary>
    public string EdgeNodeId { get; set; } = "";

    /// <summary>How many DDATA messages are held while the broker is away, to be sent as historical data on reconnect; the oldest go first.</summary>
    public int HistoryCapacity { get; set; } = 10_000;
}
