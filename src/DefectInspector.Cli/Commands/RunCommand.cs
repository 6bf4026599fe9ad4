using System.CommandLine;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Inference.Model;
using DefectInspector.Publish;
using DefectInspector.Training.Demo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace DefectInspector.Cli.Commands;

/// <summary>`defect-inspector run`: the daemon. Cameras in, verdicts and heatmap snapshots out over MQTT.</summary>
internal static class RunCommand
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitConfig = 2;
    public const int ExitStalled = DaemonHost.ExitStalled;

    public static Command Create()
    {
        var config = ConfigFileOption();
        var command = new Command("run", "Run the inspection daemon (configuration: config/appsettings.json, DEFECTINSPECTOR_Section__Key, --Section:Key=value).")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        var engine = new Option<string?>("--engine") { Description = "onnx or torch: the same as --Model:Engine=..." };
        command.Options.Add(config);
        command.Options.Add(engine);
        command.SetAction(async (parse, cancellation) =>
        {
            TorchThreading.PreferPassiveWaiting();
            var stderr = parse.InvocationConfiguration.Error;
            IReadOnlyList<string> overrides = parse.GetValue(engine) is { } chosen ? [.. parse.UnmatchedTokens, $"--Model:Engine={chosen}"] : parse.UnmatchedTokens;
            var host = BuildValidated(parse.GetValue(config)?.FullName, overrides, stderr);
            if (host is null) return ExitConfig;
            using (host)
            {
                try
                {
                    PrepareDemoModel(host, cancellation);
                    await host.RunAsync(cancellation);
                    return Environment.ExitCode switch { ExitOk => ExitOk, ExitStalled => ExitStalled, _ => ExitFailed };
                }
                catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
                {
                    return ExitOk;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Start-up failures end here, reported once: the expected ones (a setting, a file, the broker, a port)
                    // by their message, which names what to fix; anything else with its stack, for a bug report.
                    stderr.WriteLine(e is DaemonStartException or MqttConnectException ? $"error: {e.Message}" : $"error: {e}");
                    return ExitFailed;
                }
            }
        });
        return command;
    }

    public static Option<FileInfo?> ConfigFileOption() => new("--config") { Description = "Configuration file (default: config/appsettings.json beside the executable)." };

    /// <summary>
    /// The host with every option validated, or null after printing each problem as "error: Key 'value': expected ...".
    /// Arguments other than --Section:Key=value are refused by name.
    /// </summary>
    public static IHost? BuildValidated(string? configFile, IReadOnlyList<string> overrides, TextWriter stderr)
    {
        var bad = overrides.Where(o => !o.StartsWith("--", StringComparison.Ordinal) || !o.Contains('=')).ToList();
        if (bad.Count > 0)
        {
            foreach (var token in bad)
                stderr.WriteLine($"error: argument '{token}': expected --Section:Key=value (e.g. --Mqtt:Host=broker.local)");
            return null;
        }
        IHost host;
        try
        {
            host = DaemonHost.Build(configFile, overrides, services => services.AddSingleton<IDefaultModel, DemoModelSource>());
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or FormatException)
        {
            // The configuration loader's own message names the file but not what is wrong in it; its inner one does.
            stderr.WriteLine(e.InnerException is { } why
                ? $"error: {e.Message} {why.Message}; expected a JSON object of sections as in config/appsettings.json"
                : $"error: {e.Message}");
            return null;
        }
        try
        {
            host.Services.GetRequiredService<IStartupValidator>().Validate();
            return host;
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException or AggregateException)
        {
            // One exception per options type when several are wrong; the binder's own complaints (a value of the
            // wrong type, or a key no option has, usually a typo) arrive as InvalidOperationException.
            var all = e is AggregateException many ? many.Flatten().InnerExceptions : [e];
            foreach (var problem in all)
            {
                if (problem is OptionsValidationException invalid)
                    foreach (var failure in invalid.Failures) stderr.WriteLine($"error: {failure}");
                else
                    stderr.WriteLine($"error: {problem.Message}");
            }
        }
        host.Dispose();
        return null;
    }

    /// <summary>First start without a model: train the demo model here, with a progress bar, before the service starts.</summary>
    private static void PrepareDemoModel(IHost host, CancellationToken cancellation)
    {
        var model = host.Services.GetRequiredService<IOptions<ModelOptions>>().Value;
        if (model.Path.Length > 0) return;
        string folder = Path.Combine(host.Services.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedPath, "models");
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("DefectInspector.DemoModel");
        if (DemoModel.Exists(folder)) return;
        ProgressConsole.Create().Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context => DemoModel.Ensure(folder, model.DemoTrainingDevice, new TrainingProgressBar(context), logger, cancellation));
    }
}
