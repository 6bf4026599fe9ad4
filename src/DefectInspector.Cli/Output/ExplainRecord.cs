using System.Text.Json.Serialization;
using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;

namespace DefectInspector.Cli.Output;

/// <summary>One line of `explain --json`: the contract scripts and the daemon's verdicts share for regions.</summary>
internal sealed record ExplainRecord(
    string Image,
    IReadOnlyList<string> Classes,
    float[] Logits,
    IReadOnlyDictionary<string, float> Probabilities,
    string PredictedClass,
    float DefectScore,
    string Method,
    string Layer,
    string TargetClass,
    MapRecord RawMap,
    IReadOnlyList<RegionRecord> Regions,
    string? Overlay,
    string? Map)
{
    public static ExplainRecord From(string image, Prediction prediction, Heatmap heatmap, IReadOnlyList<Region> regions, string? overlay, string? map) => new(
        image,
        prediction.Classes,
        prediction.Logits,
        prediction.Classes.Select((c, i) => (c, p: prediction.Probabilities[i])).ToDictionary(x => x.c, x => x.p),
        prediction.PredictedClassName,
        prediction.DefectScore,
        heatmap.Method,
        heatmap.Layer,
        prediction.Classes[heatmap.TargetClass],
        new MapRecord(heatmap.Raw.Width, heatmap.Raw.Height, heatmap.Raw.Values),
        regions.Select(RegionRecord.From).ToList(),
        overlay,
        map);
}

/// <summary>A raw map at feature resolution (input resolution for fused layercam and guided-gradcam): row-major floats in score units, before ReLU.</summary>
internal sealed record MapRecord(int Width, int Height, float[] Values);

internal sealed record BoxRecord(int X, int Y, int Width, int Height);

internal sealed record RegionRecord(BoxRecord Box, float Score, int Area, float PeakHeat, float MeanHeat, float MassShare)
{
    public static RegionRecord From(Region r) =>
        new(new BoxRecord(r.Box.X, r.Box.Y, r.Box.Width, r.Box.Height), r.Score, r.Area, r.PeakHeat, r.MeanHeat, r.MassShare);
}

/// <summary>A failed input in `explain --json` output, so scripts see every input accounted for.</summary>
internal sealed record ExplainFailure(string Image, string Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExplainRecord))]
[JsonSerializable(typeof(ExplainFailure))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
