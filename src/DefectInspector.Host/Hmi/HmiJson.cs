using System.Text.Json.Serialization;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Hmi;

/// <summary>A part as the page shows it: the verdict as published, where it stands, and the decision once taken.</summary>
internal sealed record PartView(VerdictMessage Verdict, string State, bool HasOverlay, ReviewView? Review)
{
    public static PartView From(StoredPart part) => new(part.Verdict, part.State, part.OverlayFile is not null,
        part.Review is { } r ? new ReviewView(r.Id, r.Disposition, r.Label, r.Comment, r.User, r.ReviewedAt, r.Exported) : null);
}

internal sealed record ReviewView(string Id, string Disposition, string Label, string? Comment, string User, DateTimeOffset ReviewedAt, bool Delivered);

/// <summary>The latest decision of one camera, for the live view.</summary>
internal sealed record LiveVerdict(string Camera, string Id, string Verdict, double DefectScore, string PredictedClass, int Regions, DateTimeOffset DecidedAt, bool HasImage);

internal sealed record CameraView(string Name, string State, string? Reason, LiveVerdict? Latest);

/// <summary>The first event of every live connection: everything the page needs to draw itself.</summary>
internal sealed record HelloEvent(string Station, UserView User, IReadOnlyList<CameraView> Cameras, bool BrokerConnected, int QueueLength);

internal sealed record StatsEvent(IReadOnlyDictionary<string, double> Fps, bool BrokerConnected, int QueueLength);

internal sealed record QueueEvent(string Kind, string PartId, int QueueLength);

internal sealed record UserView(string Name, string Role, bool LoginRequired);

internal sealed record LoginRequest(string? User, string? Password);

internal sealed record DispositionRequest(string? Disposition, string? Comment);

internal sealed record ErrorView(string Error);

internal sealed record ModelView(ModelReference Reference, string Method, string Layer, string? GoodClass);

/// <summary>The HMI's JSON, camelCase like the MQTT contracts; source-generated so nothing is reflected at run time.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PartView))]
[JsonSerializable(typeof(IReadOnlyList<PartView>))]
[JsonSerializable(typeof(LiveVerdict))]
[JsonSerializable(typeof(HelloEvent))]
[JsonSerializable(typeof(StatsEvent))]
[JsonSerializable(typeof(QueueEvent))]
[JsonSerializable(typeof(CameraStatusMessage))]
[JsonSerializable(typeof(UserView))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(DispositionRequest))]
[JsonSerializable(typeof(ErrorView))]
[JsonSerializable(typeof(ModelView))]
[JsonSerializable(typeof(IReadOnlyList<AuditEntry>))]
internal sealed partial class HmiJson : JsonSerializerContext;
