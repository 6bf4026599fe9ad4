using System.Runtime.CompilerServices;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Export;
using DefectInspector.Inference.Model;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Engine;

/// <summary>Opens a model file on the chosen engine: the one place that knows which files which engine reads.</summary>
public static class InferenceEngines
{
    public const string OnnxExtension = ".onnx";

    public static bool IsOnnxFile(string path) => string.Equals(Path.GetExtension(path), OnnxExtension, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A bundle (.dimodel) or an exported graph (.onnx) on <paramref name="engine"/>. The onnx engine serves a bundle
    /// through its exported form: the .onnx beside it when that was exported from this very bundle (its source_sha256
    /// matches; libtorch is then never loaded), else an export made now, in memory, and with <paramref name="writeBeside"/>
    /// also written beside the bundle so that later starts take it from there.
    /// </summary>
    public static IInferenceEngine Open(string path, string engine, string device, OnnxSessionSettings? onnx = null,
        ServingOverrides? overrides = null, ILogger? logger = null, bool writeBeside = false)
    {
        engine = Engines.Parse(engine, "engine");
        bool overridden = overrides is not null && overrides != new ServingOverrides();
        if (IsOnnxFile(path))
        {
            if (engine == Engines.Torch)
                throw new ArgumentException($"{path}: an exported ONNX model; the torch engine reads bundles (.dimodel): serve it with the onnx engine");
            if (overridden)
                throw new ArgumentException($"{path}: an ONNX graph serves the stride, views and map score it was exported with; export the bundle again with those options instead");
            return OnnxEngine.Open(path, Settings(onnx, device));
        }
        if (engine == Engines.Torch)
            return OpenTorch(path, device, overrides);

        string beside = Path.ChangeExtension(path, OnnxExtension);
        if (!overridden && File.Exists(beside))
        {
            var exported = OnnxEngine.Open(beside, Settings(onnx, device));
            if (exported.Sha256 == ModelBundle.Sha256(path)) return exported;
            exported.Dispose();
            logger?.LogWarning("{OnnxPath} was exported from another bundle than {ModelPath}: exporting again, in memory", beside, path);
        }
        var bytes = ExportBundle(path, overrides);
        if (writeBeside && !overridden)
        {
            OnnxExport.WriteFile(beside, bytes);
            logger?.LogInformation("Exported {ModelPath} to {OnnxPath} for the onnx engine", path, beside);
        }
        else
        {
            logger?.LogInformation("Exported {ModelPath} to ONNX in memory for the onnx engine; `defect-inspector export` writes it beside the bundle, and starts then skip this", path);
        }
        return OnnxEngine.FromBytes(bytes, Settings(onnx, device), path);
    }

    /// <summary>A model already in TorchSharp (a state dict, the ImageNet trunk, one just trained) on <paramref name="engine"/>; takes ownership.</summary>
    public static IInferenceEngine From(InspectionModel model, string engine, string device, OnnxSessionSettings? onnx = null)
    {
        if (Engines.Parse(engine, "engine") == Engines.Torch) return new TorchEngine(model);
        using (model)
            return OnnxEngine.FromBytes(OnnxExport.ToBytes(model.Network, model.Metadata, model.Sha256), Settings(onnx, device), model.Metadata.Name);
    }

    // TorchSharp stays in methods of its own, so that serving an .onnx never JIT-compiles a reference to it (and so
    // never loads libtorch).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static TorchEngine OpenTorch(string path, string device, ServingOverrides? overrides) =>
        new(InspectionModel.FromBundle(path, TorchDevice.Resolve(device), overrides));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static byte[] ExportBundle(string path, ServingOverrides? overrides)
    {
        using var model = InspectionModel.FromBundle(path, CPU, overrides);
        return OnnxExport.ToBytes(model.Network, model.Metadata, model.Sha256);
    }

    private static OnnxSessionSettings Settings(OnnxSessionSettings? onnx, string device) => (onnx ?? new OnnxSessionSettings()) with { Device = device };
}
