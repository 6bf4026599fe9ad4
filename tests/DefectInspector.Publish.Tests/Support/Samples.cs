using System.Text.Json;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Publish.Tests.Support;

/// <summary>One filled-in example of every contract (timestamps deliberately not in UTC).</summary>
public static class Samples
{
    public static readonly DateTimeOffset Captured = new(2026, 11, 27, 22, 31, 13, 250, TimeSpan.FromHours(1));

    public static readonly ModelReference Model = new("magnetic-tile", "1.2.0", new string('a', 64));

    public static readonly string ConfigHash = new('c', 64);

    public static readonly JsonElement Context = JsonDocument.Parse("""{"lot":"L-77","order":4711,"recipe":{"name":"tile-40","rev":3}}""").RootElement.Clone();

    public static Topics Topics(string station = "st1") => new("defect-inspector", "plant-a", "line-3", station);

    public static VerdictMessage Verdict(string? id = null, string camera = "top") => new()
    {
        Id = id ?? Guid.CreateVersion7().ToString(),
        Site = "plant-a",
        Line = "line-3",
        Station = "st1",
        Camera = camera,
        PartId = "P-0001",
        FrameRef = "frame-000042.png",
        CapturedAt = Captured,
        DecidedAt = Captured.AddMilliseconds(38.5),
        Verdict = Verdicts.Ng,
        ResultCode = ResultCodes.Ng,
        ResultNumber = 1,
        DefectScore = 0.93,
        PredictedClass = "crack",
        DefectCode = "D-104",
        Probabilities = new Dictionary<string, double> { ["good"] = 0.07, ["crack"] = 0.93 },
        Threshold = 0.5,
        UncertainMargin = 0.05,
        Width = 640,
        Height = 480,
        Regions = [new RegionMessage(new BoxMessage(10, 20, 30, 40), 0.8, 900, 3.2, 1.4, 0.6)],
        Model = Model,
        ConfigHash = ConfigHash,
        Method = "cam",
        Layer = "layer4",
        TimingsMs = new Dictionary<string, double> { ["queue"] = 0.4, ["inference"] = 21.5, ["total"] = 38.5 },
        Snapshot = new SnapshotReference("defect-inspector/plant-a/line-3/st1/snapshot/top", "image/jpeg", 48213),
    };

    /// <summary>An uncertain part without a part id, snapshot or regions.</summary>
    public static DefectEvent Event() =>
        DefectEvent.From(Verdict() with { Verdict = Verdicts.Uncertain, ResultCode = ResultCodes.Uncertain, ResultNumber = 2, DefectScore = 0.52, PartId = null, Snapshot = null, Regions = [] });

    /// <summary>A triggered part whose frame could not be captured: no findings, the reason instead.</summary>
    public static VerdictMessage ErrorVerdict() => Verdict() with
    {
        Verdict = Verdicts.Error,
        ResultCode = ResultCodes.CaptureFailed,
        ResultNumber = ResultCodes.Number(ResultCodes.CaptureFailed),
        Error = "camera rtsp://cam1/stream: connection refused",
        CommandId = "cmd-0001",
        Context = Context,
        DefectScore = null,
        PredictedClass = null,
        DefectCode = null,
        Probabilities = null,
        Width = null,
        Height = null,
        Regions = [],
        Snapshot = null,
        TimingsMs = new Dictionary<string, double>(),
    };

    public static TriggerReply Accepted() => new()
    {
        Camera = "top",
        PartId = "P-0001",
        CommandId = "cmd-0001",
        Result = TriggerResults.Accepted,
        ResultCode = ResultCodes.Accepted,
        ResultNumber = ResultCodes.Number(ResultCodes.Accepted),
        VerdictId = "019ac7d4-5b1e-7c3a-9f2d-4e8b6a1c0d37",
        At = Captured,
    };

    public static TriggerReply Rejected() => new()
    {
        Camera = "top",
        PartId = "P-0001",
        Result = TriggerResults.Rejected,
        ResultCode = ResultCodes.CameraOffline,
        ResultNumber = ResultCodes.Number(ResultCodes.CameraOffline),
        Message = "camera 'top' is offline",
        At = Captured,
    };

    public static StationConfigMessage Config() => new()
    {
        Site = "plant-a",
        Line = "line-3",
        Station = "st1",
        At = Captured,
        ConfigHash = ConfigHash,
        Version = "0.2.0",
        Model = new StationModel("magnetic-tile", "1.2.0", new string('a', 64), ["good", "crack"], "good", 0.5, 0.05, "cam", "layer4", "onnx"),
        Cameras = [new StationCamera("top", "rtsp", "mqtt", "0,0,640,480", 0, 10_000, 16), new StationCamera("side", "folder", "continuous", null, 5, null, null)],
        DefectCodes = new Dictionary<string, string> { ["crack"] = "D-104" },
        ResultCodes = ResultCodes.All,
    };

    public static StatusMessage Status(string station = "st1") => new()
    {
        State = StationStates.Online,
        Site = "plant-a",
        Line = "line-3",
        Station = station,
        At = Captured,
        Version = "0.1.0",
        Model = Model,
        ConfigHash = ConfigHash,
        Cameras = new Dictionary<string, string> { ["top"] = CameraStates.Online, ["side"] = CameraStates.Degraded },
    };

    public static AlarmMessage Alarm() => new(AlarmCodes.StorageFull, "disk full: the outbox cannot store a frame's messages; inspection waits", Captured);

    public static CameraStatusMessage CameraStatus() => new()
    {
        Camera = "side",
        State = CameraStates.Degraded,
        Reason = "frame timeout after 2000 ms",
        At = Captured,
    };

    public static StatsMessage Stats() => new()
    {
        At = Captured,
        UptimeSeconds = 3600.5,
        Cameras = new Dictionary<string, CameraStats> { ["top"] = new(1000, 2, 950, 40, 8, 1, 1, 12.5, 31.0, 48.2) },
    };

    public static TriggerCommand Trigger() => new("P-0001", "cmd-0001", Context);

    public static ReviewMessage Review() =>
        ReviewMessage.Of(Verdict(), "019ac7d5-0000-7000-8000-000000000001", Dispositions.FalseReject, "good", "dust on the lens", "anna", Captured.AddMinutes(3));
}
