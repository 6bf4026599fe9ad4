using System.Net;
using DefectInspector.Host.Hmi;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Options;

internal sealed class HmiOptionsValidator(IOptions<HealthOptions> health) : IValidateOptions<HmiOptions>
{
    public ValidateOptionsResult Validate(string? name, HmiOptions o)
    {
        var e = new ConfigErrors();
        if (!o.Enabled) return e.Result;
        bool parsed = ListenUrl.TryParse(o.Url, out var endpoint);
        e.Check(parsed, "Hmi:Url", o.Url, ListenUrl.Expected);
        if (parsed && health.Value.Enabled && ListenUrl.TryParse(health.Value.Url, out var healthEndpoint) && healthEndpoint.Port == endpoint.Port)
            e.Add("Hmi:Url", o.Url, $"a port other than Health:Url's ({health.Value.Url}): the health endpoints have no login");
        if (parsed && !endpoint.IsLoopback && o.Users.Count == 0)
            e.Add("Hmi:Users", "", "at least one user when Hmi:Url is beyond loopback (login is required there); make a password hash with `defect-inspector hmi hash-password`");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < o.Users.Count; i++)
        {
            var user = o.Users[i];
            e.Check(HmiUserOptions.IsValidName(user.Name) && seen.Add(user.Name), $"Hmi:Users:{i}:Name", user.Name, $"{HmiUserOptions.NameRule}, each name once");
            e.Check(HmiRoles.All.Contains(user.Role), $"Hmi:Users:{i}:Role", user.Role, string.Join(" or ", HmiRoles.All));
            e.Check(Passwords.IsHash(user.PasswordHash), $"Hmi:Users:{i}:PasswordHash", user.PasswordHash.Length == 0 ? "" : "(hidden)",
                "a hash made by `defect-inspector hmi hash-password`, never the password itself");
        }
        e.Check(o.SessionHours is >= 1 and <= 168, "Hmi:SessionHours", o.SessionHours, "1 to 168");
        e.Check(o.LiveFps is >= 0 and <= 30, "Hmi:LiveFps", o.LiveFps, "0 to 30 (0 = no live overlays)");
        e.Check(HmiLanguages.All.Contains(o.Language, StringComparer.Ordinal), "Hmi:Language", o.Language, string.Join(", ", HmiLanguages.All));
        e.Check(o.MaxQueuedParts is >= 10 and <= 1_000_000, "Hmi:MaxQueuedParts", o.MaxQueuedParts, "10 to 1000000");
        for (int i = 0; i < o.TrustedProxies.Count; i++)
            e.Check(IPAddress.TryParse(o.TrustedProxies[i], out _), $"Hmi:TrustedProxies:{i}", o.TrustedProxies[i], "the IP address of a reverse proxy, e.g. 127.0.0.1");
        // A proxy serves other machines: without users they would all review as the local screen's operator.
        if (o.TrustedProxies.Count > 0 && o.Users.Count == 0)
            e.Add("Hmi:Users", "", "at least one user when Hmi:TrustedProxies is set (a reverse proxy serves other machines, so login is required)");
        return e.Result;
    }
}
