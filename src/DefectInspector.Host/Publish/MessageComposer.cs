using DefectInspector.Core.Decision;
using DefectInspector.Core.Regions;
using DefectInspector.Host.Inspect;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Publish;

/// <summary>Turns a decided frame into the messages of the MQTT contract (docs/mqtt.md).</summary>
internal sealed class MessageComposer(Topics topics, StationIdentity station, ModelReference model, DecisionThresholds decision, string method, string layer)
{
    public ComposedFrame Compose(Inspection inspection, byte[]? snapshot, IReadOnlyDictionary<string, double> timingsMs)
    {
        var frame = inspection.Frame;
        string id = frame.Id.ToString();
        var snapshotRef = snapshot is null ? null : new SnapshotReference(topics.Snapshot(frame.Camera), OutgoingMessages.JpegContentType, snapshot.Length);
        var regions = inspection.Regions.Select(ToMessage).ToList();
        var prediction = inspection.Prediction;
        var verdict = new VerdictMessage
        {
            Id = id,
            Site = station.Site,
            Line = station.Line,
            Station = station.Station,
            Camera = frame.Camera,
            PartId = frame.PartId,
            FrameRef = frame.Source.FrameRef,
            CapturedAt = frame.Source.CapturedAt,
            DecidedAt = inspection.DecidedAt,
            Verdict = ToWire(inspection.Verdict),
            DefectScore = Math.Round(prediction.DefectScore, 6),
            PredictedClass = prediction.PredictedClassName,
            Probabilities = prediction.Classes.Select((c, i) => (c, p: Math.Round(prediction.Probabilities[i], 6))).ToDictionary(x => x.c, x => x.p),
            Threshold = decision.Threshold,
            UncertainMargin = decision.UncertainMargin,
            Width = frame.Image.Width,
            Height = frame.Image.Height,
            Regions = regions,
            Model = model,
            Method = method,
            Layer = layer,
            TimingsMs = timingsMs,
            Snapshot = snapshotRef,
        };
        var messages = new List<OutgoingMessage>(3) { OutgoingMessages.Verdict(topics, verdict) };
        if (inspection.Verdict != Verdict.Ok)
            messages.Add(OutgoingMessages.Event(topics, DefectEvent.From(verdict)));
        if (snapshot is not null)
            messages.Add(OutgoingMessages.Snapshot(topics, frame.Camera, id, snapshot));
        return new ComposedFrame(verdict, messages);
    }

    public static string ToWire(Verdict verdict) => verdict switch
    {
        Verdict.Ok => Verdicts.Ok,
        Verdict.Ng => Verdicts.Ng,
        _ => Verdicts.Uncertain,
    };

    private static RegionMessage ToMessage(Region r) => new(new BoxMessage(r.Box.X, r.Box.Y, r.Box.Width, r.Box.Height),
        Math.Round(r.Score, 6), r.Area, Math.Round(r.PeakHeat, 6), Math.Round(r.MeanHeat, 6), Math.Round(r.MassShare, 6));
}

/// <summary>A decided frame's verdict and every message it publishes, in order.</summary>
internal sealed record ComposedFrame(VerdictMessage Verdict, IReadOnlyList<OutgoingMessage> Messages);

/// <summary>Site, line and station as they appear in topics and messages.</summary>
internal sealed record StationIdentity(string Site, string Line, string Station);
