using System.Text.Json.Serialization;
using DefectInspector.Core.Decision;
using DefectInspector.Core.Imaging;
using DefectInspector.Core.Naming;
using DefectInspector.Core.Regions;

namespace DefectInspector.Inference.Bundle;

/// <summary>
/// Everything a served model needs besides its weights. Stored as JSON inside the bundle (see docs/model-bundle.md).
/// Region thresholds in <see cref="ThresholdMode.Absolute"/> mode are in the raw map units of <see cref="Explainer"/>.
/// Keys older bundles lack have settable properties: source-generated JSON gives an absent init-only property its
/// type's default instead of the initialiser's (dotnet/runtime#84484), so an old bundle would read as stride 0.
/// </summary>
public sealed record BundleMetadata
{
    public const int CurrentSchema = 1;

    public int Schema { get; init; } = CurrentSchema;

    public required string Name { get; init; }

    public string Version { get; set; } = "0";

    public required string Architecture { get; init; }

    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>The class that means "defect-free"; null for a model without one (then every class is a finding).</summary>
    public string? GoodClass { get; init; }

    public required Preprocessing Preprocessing { get; init; }

    public DecisionThresholds Decision { get; set; } = new();

    public RegionSettings Regions { get; set; } = new();

    public ExplainerDefaults Explainer { get; set; } = new();

    /// <summary>
    /// 32: the network as trained; 16: layer4 dilated for a finer CAM (see <see cref="Model.GapResNet.OutputStride"/>).
    /// The thresholds above were calibrated at this stride.
    /// </summary>
    public int OutputStride { get; set; } = 32;

    /// <summary>
    /// How many mirrored views of each frame the model sees (1, 2 or 4; see <see cref="Explain.MirrorViews"/>): scores and
    /// maps are their means, so the thresholds above were calibrated with this many. Each view is a forward pass.
    /// </summary>
    public int Views { get; set; } = 1;

    public Provenance Provenance { get; set; } = new();

    [JsonIgnore]
    public int GoodClassIndex => GoodClass is null ? -1 : IndexOfClass(GoodClass);

    /// <summary>The metadata as stored in the bundle (camelCase JSON), for tools that show it.</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, BundleJsonContext.Default.BundleMetadata);

    /// <summary>Metadata as stored (in a bundle or an exported ONNX model), validated; errors name <paramref name="source"/>.</summary>
    public static BundleMetadata FromJson(string json, string source)
    {
        BundleMetadata metadata;
        try
        {
            metadata = System.Text.Json.JsonSerializer.Deserialize(json, BundleJsonContext.Default.BundleMetadata)
                       ?? throw new InvalidDataException($"{source}: empty model metadata");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{source}: model metadata is not valid JSON for schema {CurrentSchema}: {e.Message}", e);
        }
        metadata.Validate(source);
        return metadata;
    }

    public int IndexOfClass(string name)
    {
        for (int i = 0; i < Classes.Count; i++)
            if (string.Equals(Classes[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    /// <summary>Throws with the field name and what was expected.</summary>
    public void Validate(string source)
    {
        try
        {
            if (Schema != CurrentSchema)
                throw new ArgumentException($"schema {Schema}: this version reads schema {CurrentSchema}");
            Model.Architecture.Parse(Architecture);
            if (Classes is not { Count: >= 2 } || Classes.Distinct(StringComparer.OrdinalIgnoreCase).Count() != Classes.Count)
                throw new ArgumentException("classes: expected at least 2 distinct names");
            // Class names become MQTT payload labels and the feedback folder's subfolders: "../x" would file reviewed
            // parts outside it.
            for (int i = 0; i < Classes.Count; i++)
                if (!TopicName.IsValid(Classes[i]))
                    throw new ArgumentException($"classes[{i}] '{Classes[i]}': expected {TopicName.Allowed}");
            if (GoodClass is not null && GoodClassIndex < 0)
                throw new ArgumentException($"goodClass '{GoodClass}': expected one of the classes {string.Join(", ", Classes)}");
            if (OutputStride is not (16 or 32))
                throw new ArgumentException($"outputStride {OutputStride}: expected 16 or 32");
            Explain.MirrorViews.Validate(Views, "views");
            Preprocessing.Validate();
            Decision.Validate();
            Regions.Validate();
            Model.Layers.ToStages(Explainer.Layer);
            Explain.CamMethods.Canonical(Explainer.Method);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }
}

/// <summary>
/// Which CAM method, layer and score the model's region thresholds were calibrated for. Bundles from before the score
/// existed explain the logit.
/// </summary>
public sealed record ExplainerDefaults(string Method = "cam", string Layer = "layer4", Explain.MapScore Score = Explain.MapScore.Logit);

/// <summary>Where a model came from, so a verdict can be traced to its training run. Settable for the reason on <see cref="BundleMetadata"/>.</summary>
public sealed record Provenance
{
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public string ProductVersion { get; set; } = typeof(Provenance).Assembly.GetName().Version?.ToString() ?? "0";

    public string? SourceWeights { get; init; }

    public string? DatasetFingerprint { get; init; }

    public int? Seed { get; init; }

    public IReadOnlyDictionary<string, double> ValidationMetrics { get; set; } = new Dictionary<string, double>();

    public string? Notes { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BundleMetadata))]
internal sealed partial class BundleJsonContext : JsonSerializerContext;
