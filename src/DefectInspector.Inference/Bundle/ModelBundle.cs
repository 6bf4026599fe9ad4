using System.Security.Cryptography;
using System.Text.Json;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Bundle;

/// <summary>
/// The product's model file: one safetensors file whose tensors are the GAP-ResNet's state dict (torchvision
/// names, so Python can read it too) and whose header metadata carries <see cref="BundleMetadata"/> as JSON.
/// </summary>
public static class ModelBundle
{
    public const string FormatKey = "format";
    public const string FormatValue = "defect-inspector.model-bundle";
    public const string MetadataKey = "defect_inspector";
    public const string Extension = ".dimodel";

    public static void Save(string path, GapResNet model, BundleMetadata metadata)
    {
        metadata.Validate(path);
        if (metadata.Classes.Count != model.NumClasses || !string.Equals(metadata.Architecture, model.Architecture.Name, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{path}: metadata describes a {metadata.Architecture} with {metadata.Classes.Count} classes but the model is a {model.Architecture.Name} with {model.NumClasses}");
        string json = JsonSerializer.Serialize(metadata, BundleJsonContext.Default.BundleMetadata);
        SafetensorsFile.Write(path, model.state_dict(), new Dictionary<string, string> { [FormatKey] = FormatValue, [MetadataKey] = json });
    }

    /// <summary>
    /// Reads a bundle into a new model on <paramref name="device"/>; the caller owns the model. <paramref name="overrides"/>
    /// serve it otherwise than it was calibrated (to compare); the metadata then says so.
    /// </summary>
    public static (GapResNet Model, BundleMetadata Metadata, string Sha256) Load(string path, Device? device = null, ServingOverrides? overrides = null)
    {
        var (tensors, header) = SafetensorsFile.Read(path);
        try
        {
            if (!header.TryGetValue(FormatKey, out var format) || format != FormatValue || !header.TryGetValue(MetadataKey, out var json))
                throw new InvalidDataException($"{path}: a safetensors file but not a DefectInspector model bundle (no '{FormatKey}: {FormatValue}' metadata); load plain state dicts with --weights");
            var metadata = BundleMetadata.FromJson(json, path);
            if (overrides is not null)
            {
                metadata = overrides.ApplyTo(metadata);
                metadata.Validate(path);
            }
            var model = new GapResNet(Architecture.Parse(metadata.Architecture), metadata.Classes.Count, metadata.OutputStride);
            try
            {
                StateDict.LoadInto(model, tensors, path);
                if (device is not null) model.to(device);
                model.eval();
                return (model, metadata, Sha256(path));
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
