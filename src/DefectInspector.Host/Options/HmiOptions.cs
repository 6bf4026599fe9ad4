using System.Text.RegularExpressions;

namespace DefectInspector.Host.Options;

/// <summary>
/// Configuration section "Hmi": the operator review station, a web page served by the daemon: live view, review
/// queue of flagged parts, history; dispositions go to MES (MQTT), to the feedback folder (training data) and to the
/// audit trail.
/// </summary>
public sealed class HmiOptions
{
    public const string Section = "Hmi";

    public const string DefaultUrl = "http://127.0.0.1:8090";

    /// <summary><see cref="ListenUrl"/>; empty = no HMI (and no review queue).</summary>
    public string Url { get; set; } = DefaultUrl;

    /// <summary>Who may log in. Required when <see cref="Url"/> is beyond loopback; on loopback, none = the local screen reviews as operator "local".</summary>
    public List<HmiUserOptions> Users { get; set; } = [];

    /// <summary>How long a login lasts without activity: about a shift.</summary>
    public int SessionHours { get; set; } = 12;

    /// <summary>Live view overlays drawn per camera per second while a browser watches; 0 = the live view shows flagged parts only.</summary>
    public double LiveFps { get; set; } = 2;

    /// <summary>Unreviewed parts kept in the queue; beyond it the oldest leave the queue (their verdicts were delivered already).</summary>
    public int MaxQueuedParts { get; set; } = 2000;

    /// <summary>Where dispositioned parts are stored as `train --data` reads them (ImageFolder); empty = Storage:Path/feedback.</summary>
    public string FeedbackPath { get; set; } = "";

    /// <summary>The page's language: auto (the browser's first one the page speaks, else English), en or zh-CN.</summary>
    public string Language { get; set; } = HmiLanguages.Auto;

    /// <summary>
    /// Addresses of TLS reverse proxies in front of the HMI whose X-Forwarded-For, -Proto and -Host headers are believed:
    /// the login limits then count each browser's address, not the proxy's, and cookies follow the browser's https.
    /// Empty = no forwarded headers are read (anyone could send them).
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Marks the session cookie Secure whatever the request's scheme (behind a TLS proxy that does not say X-Forwarded-Proto).</summary>
    public bool SecureCookies { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Url);

    /// <summary>Login is required when users are configured, and always beyond loopback.</summary>
    public bool LoginRequired => Users.Count > 0 || !(ListenUrl.TryParse(Url, out var endpoint) && endpoint.IsLoopback);
}

/// <summary>One HMI user: a name, a role, and a password hash made by `defect-inspector hmi hash-password`.</summary>
public sealed partial class HmiUserOptions
{
    public string Name { get; set; } = "";

    /// <summary>operator (review) or engineer (review, plus model, thresholds and the audit trail).</summary>
    public string Role { get; set; } = HmiRoles.Operator;

    public string PasswordHash { get; set; } = "";

    public const string NameRule = "1-64 letters, digits, '.', '_' or '-'";

    /// <summary>The rule for configured names, also applied to what a login form sends before it is logged or audited.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}

public static class HmiLanguages
{
    public const string Auto = "auto";

    /// <summary>The languages the page speaks (Hmi/Page/i18n.js), and auto.</summary>
    public static IReadOnlyList<string> All { get; } = [Auto, "en", "zh-CN"];
}

public static class HmiRoles
{
    public const string Operator = "operator";
    public const string Engineer = "engineer";

    public static IReadOnlyList<string> All { get; } = [Operator, Engineer];
}
