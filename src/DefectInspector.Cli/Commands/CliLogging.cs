using Microsoft.Extensions.Logging;

namespace DefectInspector.Cli.Commands;

/// <summary>Structured logs on stderr, so stdout stays the command's own output.</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create() => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Warning)
        .AddSimpleConsole(o => o.SingleLine = true)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}
