using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Engine;

/// <summary>The model in TorchSharp: every explainer, every layer, on the CPU or (with a CUDA build of libtorch) the GPU.</summary>
public sealed class TorchEngine(InspectionModel model) : IInferenceEngine
{
    private readonly Dictionary<string, IExplainer> methods = new(StringComparer.OrdinalIgnoreCase);

    public string Name => Engines.Torch;

    public string Device => model.Device.ToString();

    public BundleMetadata Metadata => model.Metadata;

    public string Sha256 => model.Sha256;

    /// <summary>The served model, for the torch-only measurements (bench) and the export.</summary>
    public InspectionModel Model => model;

    public void CheckServes(string method, ExplainRequest request)
    {
        Method(method).CheckLayer(request.Layer);
        MirrorViews.Validate(request.Views, "views");
    }

    public Explanation Explain(IReadOnlyList<InputImage> images, string method, ExplainRequest request, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        return Method(method).Explain(model.Network, model.ToBatch(images), request, cancellation);
    }

    private IExplainer Method(string name)
    {
        if (!methods.TryGetValue(name, out var method)) methods[name] = method = CamMethods.Create(name);
        return method;
    }

    public void Dispose() => model.Dispose();
}
