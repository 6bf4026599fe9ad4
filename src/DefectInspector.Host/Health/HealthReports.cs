using System.Text.Json.Serialization;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Health;

/// <summary>The body of /healthz: 200 while <see cref="Status"/> is ok or starting, 503 otherwise.</summary>
internal sealed record LivenessReport(string Status, IReadOnlyList<string> Problems)
{
    public const string Ok = "ok", Starting = "starting", Stopping = "stopping", Failing = "failing";

    [JsonIgnore]
    public bool IsAlive => Status is Ok or Starting;

    /// <summary>
    /// Alive while no loop has faulted and no stage is stuck in a call. A loop that ran to its end is not a failure:
    /// a file source without Loop ends, and readiness says so through the camera's state.
    /// </summary>
    public static LivenessReport Evaluate(bool started, bool stopping, IReadOnlyDictionary<string, Task> loops, (string Stage, TimeSpan For)? stall, TimeSpan stallLimit)
    {
        if (stopping) return new LivenessReport(Stopping, ["the daemon is stopping"]);
        var problems = loops.Where(l => l.Value.IsFaulted)
            .Select(l => $"loop {l.Key} failed: {l.Value.Exception?.GetBaseException().Message}")
            .ToList();
        if (stall is { } s)
            problems.Add(FormattableString.Invariant($"{s.Stage} stuck in a call for {s.For.TotalSeconds:0} s (limit {stallLimit.TotalSeconds:0} s)"));
        if (problems.Count > 0) return new LivenessReport(Failing, problems);
        return new LivenessReport(started ? Ok : Starting, []);
    }
}

/// <summary>One thing readiness depends on: ready or not, and why, in words.</summary>
internal sealed record ReadinessCheck(bool Ready, string Detail);

/// <summary>
/// The body of /readyz: 200 when the model is loaded, the broker connected and every camera online; otherwise 503 and
/// <see cref="NotReady"/> names what is not ("model", "broker", "camera:NAME").
/// </summary>
internal sealed record ReadinessReport(
    string Status, IReadOnlyList<string> NotReady, ReadinessCheck Model, ReadinessCheck Broker, IReadOnlyDictionary<string, ReadinessCheck> Cameras)
{
    [JsonIgnore]
    public bool IsReady => NotReady.Count == 0;

    /// <param name="cameras">Every configured camera; one the status board has not heard of yet is starting.</param>
    public static ReadinessReport Evaluate(ModelReference? model, bool brokerConnected, string brokerDetail,
        IReadOnlyList<string> cameras, IReadOnlyDictionary<string, CameraStatusMessage> states)
    {
        var modelCheck = model is null
            ? new ReadinessCheck(false, "loading")
            : new ReadinessCheck(true, $"{model.Name} {model.Version}");
        var brokerCheck = new ReadinessCheck(brokerConnected, brokerDetail);
        var cameraChecks = cameras.ToDictionary(c => c, c => states.TryGetValue(c, out var s)
            ? new ReadinessCheck(s.State == CameraStates.Online, s.Reason is { Length: > 0 } reason ? $"{s.State}: {reason}" : s.State)
            : new ReadinessCheck(false, "starting"));
        var notReady = new List<string>();
        if (!modelCheck.Ready) notReady.Add("model");
        if (!brokerCheck.Ready) notReady.Add("broker");
        notReady.AddRange(cameraChecks.Where(c => !c.Value.Ready).Select(c => $"camera:{c.Key}"));
        return new ReadinessReport(notReady.Count == 0 ? "ready" : "not ready", notReady, modelCheck, brokerCheck, cameraChecks);
    }
}
