namespace DefectInspector.Publish.Contracts;

/// <summary>
/// The retained description of the station (<c>config</c>): what it inspects with and how it answers. Every verdict
/// carries <see cref="ConfigHash"/>, so MES can tell which settings decided a part; the hash changes exactly when
/// something here other than <see cref="At"/> changes.
/// </summary>
public sealed record StationConfigMessage
{
    public string Schema { get; init; } = SchemaVersion.Current;

    public required string Site { get; init; }

    public required string Line { get; init; }

    public required string Station { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>SHA-256 (lower-case hex) of this message with <c>at</c> and <c>configHash</c> left out.</summary>
    public required string ConfigHash { get; init; }

    public required string Version { get; init; }

    public required StationModel Model { get; init; }

    public required IReadOnlyList<StationCamera> Cameras { get; init; }

    /// <summary>Model class -> the plant's defect code, as configured in Model:DefectCodes.</summary>
    public required IReadOnlyDictionary<string, string> DefectCodes { get; init; }

    /// <summary>Every result code and its number.</summary>
    public required IReadOnlyDictionary<string, int> ResultCodes { get; init; }
}

/// <summary>The model in service and the rules that turn its scores into verdicts.</summary>
public sealed record StationModel(
    string Name, string Version, string Sha256, IReadOnlyList<string> Classes, string? GoodClass, double Threshold, double UncertainMargin,
    string Method, string Layer, string Engine);

/// <summary>One camera: its source kind (never the address: it may hold credentials), trigger mode and limits.</summary>
public sealed record StationCamera(string Name, string SourceKind, string Trigger, string? Roi, double MaxFps, int? TriggerMaxAgeMs, int? TriggerQueueCapacity);
