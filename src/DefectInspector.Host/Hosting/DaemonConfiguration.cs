using Microsoft.Extensions.Configuration;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// Where settings come from, later ones winning: the config file (config/appsettings.json beside the executable,
/// or the one given), DEFECTINSPECTOR_Section__Key environment variables, then --Section:Key=value arguments.
/// </summary>
public static class DaemonConfiguration
{
    public const string EnvironmentPrefix = "DEFECTINSPECTOR_";

    public static string DefaultFile => Path.Combine(AppContext.BaseDirectory, "config", "appsettings.json");

    /// <summary>Throws <see cref="FileNotFoundException"/> naming the file when an explicitly given one is missing.</summary>
    public static IConfigurationBuilder AddDaemonSources(this IConfigurationBuilder builder, string? configFile, IReadOnlyList<string> overrides)
    {
        if (configFile is not null && !File.Exists(configFile))
            throw new FileNotFoundException($"--config '{configFile}': file not found", configFile);
        string file = configFile is null ? DefaultFile : Path.GetFullPath(configFile);
        return builder
            .AddJsonFile(file, optional: configFile is null, reloadOnChange: false)
            .AddEnvironmentVariables(EnvironmentPrefix)
            .AddCommandLine(overrides.ToArray());
    }

    public static IConfiguration Build(string? configFile = null, IReadOnlyList<string>? overrides = null) =>
        new ConfigurationBuilder().AddDaemonSources(configFile, overrides ?? []).Build();
}
