using System.Text.RegularExpressions;

namespace DefectInspector.Training.Data;

/// <summary>Derives an image's group from its file name with <see cref="DatasetReadOptions.GroupPattern"/>.</summary>
internal sealed class GroupPattern
{
    // The pattern comes from the user: a bound keeps a pathological one from hanging the read.
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    private readonly Regex regex;

    private GroupPattern(Regex regex) => this.regex = regex;

    /// <returns>Null when <paramref name="pattern"/> is null.</returns>
    /// <exception cref="ArgumentException">The pattern is not a valid regular expression or has no capture group.</exception>
    public static GroupPattern? Create(string? pattern)
    {
        if (pattern is null)
            return null;
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"group pattern '{pattern}' is not a valid regular expression: {e.Message}", nameof(pattern), e);
        }

        // Group 0 is the whole match; the group is the first capture, so one must exist.
        if (regex.GetGroupNumbers().Length < 2)
            throw new ArgumentException($"group pattern '{pattern}' has no capture group: put the part of the file name that names the group in parentheses, e.g. ^(exp\\d+)_", nameof(pattern));
        return new GroupPattern(regex);
    }

    public IReadOnlyList<LabelledImage> Apply(IReadOnlyList<LabelledImage> images) =>
        images.Select(image => image with { Group = GroupOf(image.Path) }).ToList();

    private string GroupOf(string path)
    {
        var name = Path.GetFileName(path);
        Match match;
        try
        {
            match = regex.Match(name);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new DataProblemException($"group pattern '{regex}' took too long on file name '{name}' (image '{path}'): simplify the pattern", e);
        }

        var group = match.Success ? match.Groups[1] : null;
        if (group is null || !group.Success || group.Length == 0)
            throw new DataProblemException($"image '{path}': its file name '{name}' does not match the group pattern '{regex}' (or its first capture group is empty); expected every image's file name to name its group");
        return group.Value;
    }
}
