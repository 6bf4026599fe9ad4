namespace DefectInspector.Publish.Sparkplug;

/// <summary>
/// What a camera (a Sparkplug device) reports: its state and rate, its verdict counters since start, and its last
/// verdict. The verdict members are null until the camera has decided one. docs/sparkplug.md lists the metric each
/// member becomes.
/// </summary>
public sealed record SparkplugDeviceMetrics(
    string State,
    double Fps,
    ulong Ok,
    ulong Ng,
    ulong Uncertain,
    ulong Error,
    string? LastVerdict,
    string? ResultCode,
    double? DefectScore,
    string? PredictedClass,
    string? PartId,
    string? VerdictId);
