namespace DefectInspector.Publish.Contracts;

/// <summary>
/// The contract version every message carries in <c>schema</c> ("major.minor") and in its <c>schema</c> user property
/// ("verdict/2.0"). A minor version only adds optional members or values a consumer may ignore; anything a consumer of
/// the previous version would misread (a member removed, renamed, retyped, or a new value of a member it must act on)
/// raises the major. A consumer accepts every minor of the major it was written for (docs/mqtt.md, "Versions").
/// </summary>
public static class SchemaVersion
{
    public const int Major = 2;

    public const int Minor = 0;

    public const string Current = "2.0";

    /// <summary>The MQTT 5 user property that names a message's schema and version.</summary>
    public const string UserProperty = "schema";

    /// <summary>The user property's value for one contract, e.g. <c>verdict/2.0</c>.</summary>
    public static string Of(string contract) => $"{contract}/{Current}";

    /// <summary>True when a consumer written for this major version can read <paramref name="version"/>.</summary>
    public static bool IsReadable(string? version) =>
        version is not null && version.Split('.') is [var major, var minor]
        && int.TryParse(major, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int m) && m == Major
        && int.TryParse(minor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);
}

/// <summary>The contract names: schema file names (docs/schema/&lt;name&gt;.schema.json) and user property prefixes.</summary>
public static class ContractNames
{
    public const string Verdict = "verdict";
    public const string Event = "event";
    public const string Review = "review";
    public const string Status = "status";
    public const string CameraStatus = "camera-status";
    public const string Stats = "stats";
    public const string Config = "config";
    public const string Trigger = "trigger";
    public const string TriggerReply = "trigger-reply";
}
