using System.Text.RegularExpressions;

namespace DefectInspector.Host.Options;

/// <summary>Names that become MQTT topic levels: no wildcards, separators or spaces.</summary>
public static partial class TopicName
{
    public const string Allowed = "letters, digits, '-', '_' and '.'";

    public static bool IsValid(string? name) => name is { Length: > 0 and <= 64 } && Pattern().IsMatch(name);

    public static string Sanitise(string name)
    {
        var cleaned = Invalid().Replace(name, "-").Trim('-');
        return cleaned.Length == 0 ? "station" : cleaned.Length > 64 ? cleaned[..64] : cleaned;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex Pattern();

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex Invalid();
}
