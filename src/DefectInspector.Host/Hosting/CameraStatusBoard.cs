using System.Collections.Concurrent;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Hosting;

/// <summary>The latest state of every camera; raises <see cref="Changed"/> only when a state or its reason changes.</summary>
internal sealed class CameraStatusBoard
{
    private readonly ConcurrentDictionary<string, CameraStatusMessage> current = new(StringComparer.Ordinal);

    public event Action<CameraStatusMessage>? Changed;

    public IReadOnlyDictionary<string, string> States => current.ToDictionary(kv => kv.Key, kv => kv.Value.State);

    public IReadOnlyCollection<CameraStatusMessage> All => current.Values.ToList();

    /// <summary>A board with every camera offline until its capture loop reports, so the first status lists them all.</summary>
    public static CameraStatusBoard Starting(IEnumerable<string> cameras)
    {
        var board = new CameraStatusBoard();
        foreach (string camera in cameras) board.Set(camera, CameraStates.Offline, "starting");
        return board;
    }

    public void Set(string camera, string state, string? reason = null)
    {
        var message = new CameraStatusMessage { Camera = camera, State = state, Reason = reason, At = DateTimeOffset.UtcNow };
        bool changed = true;
        current.AddOrUpdate(camera, message, (_, old) =>
        {
            changed = old.State != state || old.Reason != reason;
            return changed ? message : old;
        });
        if (changed) Changed?.Invoke(message);
    }
}
