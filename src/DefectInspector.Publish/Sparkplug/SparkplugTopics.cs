namespace DefectInspector.Publish.Sparkplug;

/// <summary>The Sparkplug B topic namespace of one edge node: spBv1.0/&lt;group&gt;/&lt;type&gt;/&lt;edge node&gt;[/&lt;device&gt;].</summary>
public sealed class SparkplugTopics
{
    public const string Namespace = "spBv1.0";

    public SparkplugTopics(string groupId, string edgeNodeId)
    {
        GroupId = ValidId(groupId, "group id");
        EdgeNodeId = ValidId(edgeNodeId, "edge node id");
    }

    public string GroupId { get; }

    public string EdgeNodeId { get; }

    public string NodeBirth => Node("NBIRTH");

    public string NodeDeath => Node("NDEATH");

    public string NodeCommand => Node("NCMD");

    /// <summary>The subscription filter for commands to any device of this node.</summary>
    public string DeviceCommands => Device("DCMD", "+");

    /// <summary>Where a Sparkplug host application announces itself (retained), for any host.</summary>
    public const string HostStates = Namespace + "/STATE/+";

    public string DeviceCommand(string device) => Device("DCMD", device);

    public string DeviceBirth(string device) => Device("DBIRTH", device);

    public string DeviceData(string device) => Device("DDATA", device);

    /// <summary>The device a DCMD topic of this node names, or null when <paramref name="topic"/> is not one.</summary>
    public string? CommandedDevice(string topic)
    {
        string prefix = Device("DCMD", "");
        return topic.StartsWith(prefix, StringComparison.Ordinal) && topic.Length > prefix.Length && topic.IndexOf('/', prefix.Length) < 0
            ? topic[prefix.Length..]
            : null;
    }

    /// <summary>
    /// Sparkplug ids are topic levels: non-empty, without the MQTT separators and wildcards ('/', '+', '#').
    /// </summary>
    public static string ValidId(string id, string what)
    {
        if (string.IsNullOrWhiteSpace(id) || id.AsSpan().IndexOfAny("/+#") >= 0)
        {
            throw new ArgumentException($"the Sparkplug {what} must be non-empty and free of '/', '+' and '#', not \"{id}\"");
        }

        return id;
    }

    private string Node(string type) => $"{Namespace}/{GroupId}/{type}/{EdgeNodeId}";

    private string Device(string type, string device) => $"{Namespace}/{GroupId}/{type}/{EdgeNodeId}/{device}";
}
