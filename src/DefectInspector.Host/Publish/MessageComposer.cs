using DefectInspector.Core.Decision;
using DefectInspector.Core.Regions;
using DefectInspector.Host.Inspect;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Turns a frame's outcome into the messages of the MQTT contract (docs/mqtt.md): a decided frame's verdict, event and
/// snapshot, or the error verdict and event of a triggered part that could not be inspected.
/// </summary>
internal sealed class MessageComposer(
    Topics topics, StationIdentity station, ModelReference model, DecisionThresholds decision, string method, string layer,
    string configHash, IReadOnlyDictionary<string, string> defectCodes)
{
    public ComposedFrame Compose(Inspection inspection, byte[]? snapshot, IReadOnlyDictionary<string, double> timingsMs)
    {
        var frame = inspection.Frame;
        string id = frame.Id.ToString();
        var snapshotRef = snapshot is null ? null : new SnapshotReference(topics.Snapshot(frame.Camera), OutgoingMessages.JpegContentType, snapshot.Length);
        var prediction = inspection.Prediction;
        string verdictCode = ToWire(inspection.Verdict);
        var verdict = Outcome(id, frame.Camera, frame.Trigger, frame.Source.FrameRef, frame.Source.CapturedAt, inspection.DecidedAt, verdictCode, verdictCode, null, timingsMs) with
        {
            DefectScore = Math.Round(prediction.DefectScore, 6),
            PredictedClass = prediction.PredictedClassName,
            DefectCode = defectCodes.GetValueOrDefault(prediction.PredictedClassName),
            Probabilities = prediction.Classes.Select((c, i) => (c, p: Math.Round(prediction.Probabilities[i], 6))).ToDictionary(x => x.c, x => x.p),
            Width = frame.Image.Width,
            Height = frame.Image.Height,
            Regions = inspection.Regions.Select(ToMessage).ToList(),
            Snapshot = snapshotRef,
        };
        var messages = new List<OutgoingMessage>(3) { OutgoingMessages.Verdict(topics, verdict) };
        if (inspection.Verdict != Verdict.Ok)
            messages.Add(OutgoingMessages.Event(topics, DefectEvent.From(verdict)));
        if (snapshot is not null)
            messages.Add(OutgoingMessages.Snapshot(topics, frame.Camera, id, snapshot));
        return new ComposedFrame(verdict, messages);
    }

    /// <summary>
    /// The <c>error</c> verdict of triggered part <paramref name="trigger"/>, which could not be inspected for
    /// <paramref name="resultCode"/>; its event goes with it, since the part needs someone to act on it.
    /// </summary>
    public ComposedFrame ComposeError(Guid id, string camera, TriggerRequest trigger, string frameRef, DateTimeOffset capturedAt, string resultCode, string error)
    {
        var verdict = Outcome(id.ToString(), camera, trigger, frameRef, capturedAt, DateTimeOffset.UtcNow, Verdicts.Error, resultCode, error,
            new Dictionary<string, double>());
        return new ComposedFrame(verdict, [OutgoingMessages.Verdict(topics, verdict), OutgoingMessages.Event(topics, DefectEvent.From(verdict))]);
    }

    public static string ToWire(Verdict verdict) => verdict switch
    {
        Verdict.Ok => Verdicts.Ok,
        Verdict.Ng => Verdicts.Ng,
        _ => Verdicts.Uncertain,
    };

    private VerdictMessage Outcome(
        string id, string camera, TriggerRequest? trigger, string frameRef, DateTimeOffset capturedAt, DateTimeOffset decidedAt, string verdict, string resultCode,
        string? error, IReadOnlyDictionary<string, double> timingsMs) => new()
        {
            Id = id,
            Site = station.Site,
            Line = station.Line,
            Station = station.Station,
            Camera = camera,
            PartId = trigger?.Command?.PartId,
            CommandId = trigger?.Command?.CommandId,
            Context = trigger?.Command?.Context,
            FrameRef = frameRef,
            CapturedAt = capturedAt,
            DecidedAt = decidedAt,
            Verdict = verdict,
            ResultCode = resultCode,
            ResultNumber = ResultCodes.Number(resultCode),
            Error = error,
            Threshold = decision.Threshold,
            UncertainMargin = decision.UncertainMargin,
            Regions = [],
            Model = model,
            ConfigHash = configHash,
            Method = method,
            Layer = layer,
            TimingsMs = timingsMs,
        };

    private static RegionMessage ToMessage(Region r) => new(new BoxMessage(r.Box.X, r.Box.Y, r.Box.Width, r.Box.Height),
        Math.Round(r.Score, 6), r.Area, Math.Round(r.PeakHeat, 6), Math.Round(r.MeanHeat, 6), Math.Round(r.MassShare, 6));
}

/// <summary>A frame's verdict and every message it publishes, in order.</summary>
internal sealed record ComposedFrame(VerdictMessage Verdict, IReadOnlyList<OutgoingMessage> Messages);
