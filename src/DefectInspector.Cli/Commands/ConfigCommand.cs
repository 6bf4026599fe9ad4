using System.CommandLine;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DefectInspector.Cli.Commands;

/// <summary>`defect-inspector config validate [FILE]`: the daemon's start-up checks without starting it.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo?>("file") { Description = "Configuration file (default: config/appsettings.json beside the executable).", Arity = ArgumentArity.ZeroOrOne };
        var validate = new Command("validate", "Check a configuration (with DEFECTINSPECTOR_ variables and --Section:Key=value overrides) as `run` would.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        validate.Arguments.Add(file);
        validate.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var host = RunCommand.BuildValidated(parse.GetValue(file)?.FullName, parse.UnmatchedTokens, parse.InvocationConfiguration.Error);
            if (host is null) return RunCommand.ExitConfig;
            var services = host.Services;
            var mqtt = services.GetRequiredService<IOptions<MqttOptions>>().Value;
            var cameras = services.GetRequiredService<IOptions<CamerasOptions>>().Value.Cameras;
            var model = services.GetRequiredService<IOptions<ModelOptions>>().Value;
            output.WriteLine($"configuration is valid: {cameras.Count} camera(s) ({string.Join(", ", cameras.Select(c => $"{c.Name}={c.Source}"))}), " +
                $"broker {(mqtt.UsesEmbeddedBroker ? $"embedded on {mqtt.EmbeddedBindAddress}:{mqtt.Port}" : $"{mqtt.Host}:{mqtt.Port}")}, " +
                $"model {(model.Path.Length == 0 ? "built-in demo" : model.Path)}, state in {services.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedPath}");
            return 0;
        });
        return new Command("config", "Configuration tools.") { validate };
    }
}
