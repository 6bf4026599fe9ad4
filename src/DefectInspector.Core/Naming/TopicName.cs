using System.Text.RegularExpressions;

namespace DefectInspector.Core.Naming;

/// <summary>
/// Names that become MQTT topic levels and file or folder names (sites, lines, stations, cameras, model classes): no
/// wildcards, separators or spaces, and not "." or "..", which a path would read as this or the parent folder.
/// </summary>
public static partial class TopicName
{
    public const string Allowed = "letters, digits, '-', '_' and '.' (at most 64, not '.' or '..')";

    public static bool IsValid(string? name) => name is { Length: > 0 and <= 64 } and not ("." or "..") && Pattern().IsMatch(name);

    public static string Sanitise(string name)
    {
        var cleaned = Invalid().Replace(name, "-").Trim('-');
        return cleaned.Length == 0 || cleaned is "." or ".." ? "station" : cleaned.Length > 64 ? cleaned[..64] : cleaned;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex Pattern();

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex Invalid();
}
