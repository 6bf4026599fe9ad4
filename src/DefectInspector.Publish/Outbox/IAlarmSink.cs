namespace DefectInspector.Publish.Outbox;

/// <summary>Where the outbox reports conditions an operator must act on (the station status carries them).</summary>
public interface IAlarmSink
{
    /// <summary>Raises <paramref name="code"/> (<see cref="Contracts.AlarmCodes"/>), or updates its message if raised.</summary>
    void Raise(string code, string message);

    void Clear(string code);
}
