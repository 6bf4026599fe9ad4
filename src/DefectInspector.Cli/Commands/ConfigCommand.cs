using System.CommandLine;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DefectInspector.Cli.Commands;

/// <summary>`defect-inspector config validate [FILE]`: the daemon's start-up checks without starting it.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        // [FILE] and the --Section:Key=value overrides are both free-form tokens, so they are told apart here: a
        // declared argument would swallow the first override as its file name.
        var validate = new Command("validate", "config validate [FILE] [--Section:Key=value ...]: check a configuration (default: config/appsettings.json beside the executable, with DEFECTINSPECTOR_ variables and overrides) as `run` would.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        validate.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var files = parse.UnmatchedTokens.Where(t => !t.StartsWith("--", StringComparison.Ordinal)).ToList();
            if (files.Count > 1)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: expected at most one configuration file, got {string.Join(", ", files)}");
                return RunCommand.ExitConfig;
            }
            var overrides = parse.UnmatchedTokens.Except(files).ToList();
            using var host = RunCommand.BuildValidated(files.Count == 1 ? Path.GetFullPath(files[0]) : null, overrides, parse.InvocationConfiguration.Error);
            if (host is null) return RunCommand.ExitConfig;
            var services = host.Services;
            var mqtt = services.GetRequiredService<IOptions<MqttOptions>>().Value;
            var cameras = services.GetRequiredService<IOptions<CamerasOptions>>().Value.Cameras;
            var model = services.GetRequiredService<IOptions<ModelOptions>>().Value;
            var hmi = services.GetRequiredService<IOptions<HmiOptions>>().Value;
            output.WriteLine($"configuration is valid: {cameras.Count} camera(s) ({string.Join(", ", cameras.Select(c => $"{c.Name}={StreamUrls.MaskCredentials(c.Source)}"))}), " +
                $"broker {(mqtt.UsesEmbeddedBroker ? $"embedded on {mqtt.EmbeddedBindAddress}:{mqtt.Port}" : $"{mqtt.Host}:{mqtt.Port}")}, " +
                $"model {(model.Path.Length == 0 ? "built-in demo" : model.Path)}, " +
                $"HMI {(hmi.Enabled ? $"{hmi.Url.TrimEnd('/')}/hmi/ ({(hmi.LoginRequired ? $"login, {hmi.Users.Count} user(s)" : "no login: loopback only")})" : "off")}, " +
                $"state in {services.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedPath}");
            return 0;
        });
        return new Command("config", "Configuration tools.") { validate };
    }
}
