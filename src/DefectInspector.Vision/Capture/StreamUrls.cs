namespace DefectInspector.Vision.Capture;

/// <summary>Network stream addresses as they may appear in logs, status and messages: never with their credentials.</summary>
public static class StreamUrls
{
    internal static readonly string[] Schemes = ["rtsp", "rtsps", "http", "https"];

    /// <summary>True for rtsp://, rtsps://, http:// and https:// addresses (any letter case).</summary>
    internal static bool IsStream(string source) =>
        Schemes.Any(scheme => source.StartsWith(scheme + "://", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The URL with any user:password replaced by ***; text with a URL in it (a GStreamer pipeline) likewise. Done on
    /// the text rather than through <see cref="Uri"/>, which would re-encode the rest and show an address the operator
    /// never typed.
    /// </summary>
    public static string MaskCredentials(string url)
    {
        var authorityStart = url.IndexOf("://", StringComparison.Ordinal);
        if (authorityStart < 0)
            return url;
        authorityStart += 3;
        var authorityEnd = End(url, authorityStart);
        // The last @ ends the user info: a password may itself contain an unescaped @.
        var at = url.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
        if (at < 0)
        {
            // Or an unescaped '/' (user:pa/ss@host), which ends the authority early; a port with an @ later in the path
            // is then masked too, which hides more than needed but never less.
            var laterAt = url.IndexOf('@', authorityEnd);
            if (laterAt < 0 || url.IndexOf(':', authorityStart, authorityEnd - authorityStart) < 0)
                return url;
            var hostEnd = End(url, laterAt);
            at = url.LastIndexOf('@', hostEnd - 1, hostEnd - laterAt);
        }
        return string.Concat(url.AsSpan(0, authorityStart), "***", url.AsSpan(at));
    }

    private static int End(string url, int from)
    {
        var end = url.IndexOfAny(['/', '?', '#'], from);
        return end < 0 ? url.Length : end;
    }
}
