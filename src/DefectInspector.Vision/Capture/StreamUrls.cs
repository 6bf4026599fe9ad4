namespace DefectInspector.Vision.Capture;

/// <summary>Network stream addresses as they may appear in logs and status.</summary>
internal static class StreamUrls
{
    public static readonly string[] Schemes = ["rtsp", "rtsps", "http", "https"];

    /// <summary>True for rtsp://, rtsps://, http:// and https:// addresses (any letter case).</summary>
    public static bool IsStream(string source) =>
        Schemes.Any(scheme => source.StartsWith(scheme + "://", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The URL with any user:password replaced by ***. Done on the text rather than through <see cref="Uri"/>,
    /// which would re-encode the rest and show an address the operator never typed.
    /// </summary>
    public static string MaskCredentials(string url)
    {
        var authorityStart = url.IndexOf("://", StringComparison.Ordinal);
        if (authorityStart < 0)
            return url;
        authorityStart += 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0)
            authorityEnd = url.Length;
        // The last @ ends the user info: a password may itself contain an unescaped @.
        var at = url.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
        return at < 0 ? url : string.Concat(url.AsSpan(0, authorityStart), "***", url.AsSpan(at));
    }
}
