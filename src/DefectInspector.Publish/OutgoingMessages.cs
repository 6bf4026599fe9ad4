using DefectInspector.Publish.Contracts;

namespace DefectInspector.Publish;

/// <summary>
/// Turns each contract into the <see cref="OutgoingMessage"/> docs/mqtt.md describes: its topic, JSON payload and
/// retain flag. Verdicts, events and snapshots are not retained; statuses and stats are (the latest value is what a
/// newcomer needs). JSON messages name their schema and version in the <c>schema</c> user property.
/// </summary>
public static class OutgoingMessages
{
    public const string JpegContentType = "image/jpeg";

    public static OutgoingMessage Verdict(Topics topics, VerdictMessage verdict) =>
        new(topics.Verdict(verdict.Camera), MessageJson.Serialize(verdict), MessageJson.ContentType, Retain: false, CorrelationId: verdict.Id, Schema: SchemaVersion.Of(ContractNames.Verdict));

    public static OutgoingMessage Event(Topics topics, DefectEvent defect) =>
        new(topics.Event(defect.Camera), MessageJson.Serialize(defect), MessageJson.ContentType, Retain: false, CorrelationId: defect.Id, Schema: SchemaVersion.Of(ContractNames.Event));

    /// <summary>An operator's review of a flagged part; the verdict's id travels as correlation data.</summary>
    public static OutgoingMessage Review(Topics topics, ReviewMessage review) =>
        new(topics.Review(review.Camera), MessageJson.Serialize(review), MessageJson.ContentType, Retain: false, CorrelationId: review.VerdictId, Schema: SchemaVersion.Of(ContractNames.Review));

    /// <summary>The heatmap overlay of verdict <paramref name="verdictId"/>; the id travels as correlation data.</summary>
    public static OutgoingMessage Snapshot(Topics topics, string camera, string verdictId, ReadOnlyMemory<byte> jpeg) =>
        new(topics.Snapshot(camera), jpeg, JpegContentType, Retain: true, CorrelationId: verdictId);

    public static OutgoingMessage CameraStatus(Topics topics, CameraStatusMessage status) =>
        new(topics.CameraStatus(status.Camera), MessageJson.Serialize(status), MessageJson.ContentType, Retain: true, Schema: SchemaVersion.Of(ContractNames.CameraStatus));

    public static OutgoingMessage Status(Topics topics, StatusMessage status) =>
        new(topics.Status, MessageJson.Serialize(status), MessageJson.ContentType, Retain: true, Schema: SchemaVersion.Of(ContractNames.Status));

    public static OutgoingMessage Stats(Topics topics, StatsMessage stats) =>
        new(topics.Stats, MessageJson.Serialize(stats), MessageJson.ContentType, Retain: true, Schema: SchemaVersion.Of(ContractNames.Stats));

    /// <summary>The station descriptor: retained, so a consumer that connects later reads the settings in force.</summary>
    public static OutgoingMessage Config(Topics topics, StationConfigMessage config) =>
        new(topics.Config, MessageJson.Serialize(config), MessageJson.ContentType, Retain: true, Schema: SchemaVersion.Of(ContractNames.Config));
}
