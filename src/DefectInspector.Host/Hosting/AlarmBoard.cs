using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Outbox;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// The station's raised alarms: each is logged as an error when raised and as information when cleared, and
/// <see cref="Changed"/> lets the retained station status carry them (docs/mqtt.md, "Alarms").
/// </summary>
internal sealed class AlarmBoard(ILogger<AlarmBoard> logger) : IAlarmSink
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, AlarmMessage> raised = new(StringComparer.Ordinal);

    public event Action? Changed;

    /// <summary>The raised alarms, oldest first; null when there are none (the status then leaves the member out).</summary>
    public IReadOnlyList<AlarmMessage>? Current
    {
        get
        {
            lock (gate)
                return raised.Count == 0 ? null : raised.Values.OrderBy(a => a.Since).ToList();
        }
    }

    public void Raise(string code, string message)
    {
        bool isNew;
        lock (gate)
        {
            isNew = !raised.TryGetValue(code, out var old);
            if (!isNew && old!.Message == message) return;
            raised[code] = new AlarmMessage(code, message, isNew ? DateTimeOffset.UtcNow : old!.Since);
        }
        if (isNew) logger.LogError("Alarm {Code}: {Message}", code, message);
        Changed?.Invoke();
    }

    public void Clear(string code)
    {
        lock (gate)
            if (!raised.Remove(code)) return;
        logger.LogInformation("Alarm {Code} cleared", code);
        Changed?.Invoke();
    }
}
