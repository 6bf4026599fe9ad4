using DefectInspector.Core.Naming;

namespace DefectInspector.Host.Options;

/// <summary>Configuration section "Station": where this daemon stands; part of every topic, client id and verdict.</summary>
public sealed class StationOptions
{
    public const string Section = "Station";

    public string Site { get; set; } = "plant";

    public string Line { get; set; } = "line1";

    /// <summary>Empty = this machine's host name, so two stations never share an identity by default.</summary>
    public string Station { get; set; } = "";

    public string ResolvedStation => string.IsNullOrWhiteSpace(Station) ? TopicName.Sanitise(Environment.MachineName) : Station;
}
