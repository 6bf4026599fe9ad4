using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Inference.Engine;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Publish;

/// <summary>Describes the station as configured and served (the retained <c>config</c> message) and hashes it.</summary>
internal static class StationDescriptor
{
    public static StationConfigMessage Describe(
        StationIdentity station, IInferenceEngine engine, string method, string layer, IReadOnlyList<CameraOptions> cameras,
        IReadOnlyDictionary<string, string> defectCodes)
    {
        var model = engine.Metadata;
        foreach (string cls in defectCodes.Keys.Where(c => model.IndexOfClass(c) < 0))
            throw new DaemonStartException($"Model:DefectCodes:{cls}: '{cls}' is not a class of model {model.Name} (classes: {string.Join(", ", model.Classes)})");
        var described = new StationConfigMessage
        {
            Site = station.Site,
            Line = station.Line,
            Station = station.Station,
            At = DateTimeOffset.UtcNow,
            ConfigHash = "",
            Version = ProductVersion.Current,
            Model = new StationModel(model.Name, model.Version, engine.Sha256, model.Classes, model.GoodClass, model.Decision.Threshold, model.Decision.UncertainMargin,
                method, layer, engine.Name),
            Cameras = cameras.Select(c => new StationCamera(c.Name, SourceKind(c.Source), c.Trigger.ToLowerInvariant(), c.Roi.Length == 0 ? null : c.Roi, c.MaxFps,
                c.IsTriggered ? c.TriggerMaxAgeMs : null, c.IsTriggered ? c.TriggerQueueCapacity : null)).ToList(),
            DefectCodes = new SortedDictionary<string, string>(defectCodes.ToDictionary(kv => model.Classes[model.IndexOfClass(kv.Key)], kv => kv.Value), StringComparer.Ordinal),
            ResultCodes = ResultCodes.All,
        };
        return described with { ConfigHash = Hash(described) };
    }

    /// <summary>SHA-256 of the descriptor's JSON without at and configHash: the same settings give the same hash.</summary>
    internal static string Hash(StationConfigMessage config)
    {
        var json = JsonNode.Parse(MessageJson.Serialize(config))!.AsObject();
        json.Remove("at");
        json.Remove("configHash");
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString())));
    }

    private static string SourceKind(string source)
    {
        int colon = source.IndexOf(':', StringComparison.Ordinal);
        return (colon < 0 ? source : source[..colon]).ToLowerInvariant();
    }
}
