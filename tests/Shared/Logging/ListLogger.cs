using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Tests.Shared;

/// <summary>An ILogger that keeps what was logged, for assertions (and prints nothing).</summary>
public sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. entries];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        entries.Enqueue((logLevel, formatter(state, exception) + (exception is null ? "" : $" | {exception.GetType().Name}: {exception.Message}")));

    public bool Has(LogLevel level, string fragment) =>
        entries.Any(e => e.Level == level && e.Message.Contains(fragment, StringComparison.Ordinal));

    public int Count(LogLevel level) => entries.Count(e => e.Level == level);
}
