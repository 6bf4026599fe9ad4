using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Options;

internal sealed class HealthOptionsValidator : IValidateOptions<HealthOptions>
{
    public const string Expected = "an http:// URL with an IP address or localhost and a port 1 to 65535, e.g. " +
        "http://127.0.0.1:8080 (http://0.0.0.0:8080 for every interface), or empty to turn the endpoints off";

    public ValidateOptionsResult Validate(string? name, HealthOptions o)
    {
        var e = new ConfigErrors();
        e.Check(!o.Enabled || HealthOptions.TryParseUrl(o.Url, out _), "Health:Url", o.Url, Expected);
        return e.Result;
    }
}
