using Spectre.Console;

namespace DefectInspector.Cli.Commands;

/// <summary>Progress bars draw on stderr, so stdout stays the command's own output (JSON lines, tables).</summary>
internal static class ProgressConsole
{
    public static IAnsiConsole Create() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
}
