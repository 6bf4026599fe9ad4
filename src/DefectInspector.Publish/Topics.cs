namespace DefectInspector.Publish;

/// <summary>
/// The topic tree of one station: &lt;prefix&gt;/&lt;site&gt;/&lt;line&gt;/&lt;station&gt;/{verdict,event,snapshot,review,trigger}/&lt;camera&gt;,
/// .../camera/&lt;camera&gt;/status, .../status, .../stats and .../config. docs/mqtt.md is the reference.
/// </summary>
public sealed class Topics(string prefix, string site, string line, string station)
{
    public string Root { get; } = $"{prefix}/{site}/{line}/{station}";

    public string Verdict(string camera) => $"{Root}/verdict/{camera}";

    public string Event(string camera) => $"{Root}/event/{camera}";

    public string Snapshot(string camera) => $"{Root}/snapshot/{camera}";

    public string Review(string camera) => $"{Root}/review/{camera}";

    public string Trigger(string camera) => $"{Root}/trigger/{camera}";

    public string CameraStatus(string camera) => $"{Root}/camera/{camera}/status";

    public string Status => $"{Root}/status";

    public string Stats => $"{Root}/stats";

    public string Config => $"{Root}/config";
}
