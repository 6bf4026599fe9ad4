using DefectInspector.Host.Hosting;
using Microsoft.Extensions.Configuration;

namespace DefectInspector.Cli.Commands;

/// <summary>
/// Defaults for flags that also exist as configuration keys (config/appsettings.json beside the executable,
/// overridden by DEFECTINSPECTOR_Section__Key environment variables), so one setting serves CLI and daemon.
/// </summary>
internal static class CliSettings
{
    private static readonly Lazy<IConfiguration> Configuration = new(() => DaemonConfiguration.Build());

    /// <summary>Model:Device: cpu, cuda or cuda:N.</summary>
    public static string Device => Configuration.Value["Model:Device"] is { Length: > 0 } device ? device : "cpu";
}
