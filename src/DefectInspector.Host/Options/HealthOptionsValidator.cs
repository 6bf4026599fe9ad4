using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Options;

internal sealed class HealthOptionsValidator : IValidateOptions<HealthOptions>
{
    public ValidateOptionsResult Validate(string? name, HealthOptions o)
    {
        var e = new ConfigErrors();
        e.Check(!o.Enabled || ListenUrl.TryParse(o.Url, out _), "Health:Url", o.Url, ListenUrl.Expected);
        return e.Result;
    }
}
