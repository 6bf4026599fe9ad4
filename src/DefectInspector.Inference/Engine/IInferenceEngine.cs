using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Explain;

namespace DefectInspector.Inference.Engine;

/// <summary>
/// What serves a model: preprocessed images in, logits and the class activation map of each image out. The torch engine
/// runs the GAP-ResNet in TorchSharp and every explainer; the onnx engine runs the exported graph in ONNX Runtime (CPU,
/// CUDA or TensorRT) and the maps that graph carries. Not thread-safe: one caller at a time.
/// </summary>
public interface IInferenceEngine : IDisposable
{
    /// <summary>torch or onnx.</summary>
    string Name { get; }

    /// <summary>Where it runs, as configured: cpu, cuda:0, tensorrt:0.</summary>
    string Device { get; }

    BundleMetadata Metadata { get; }

    /// <summary>SHA-256 of the bundle the weights came from: the model's identity in verdicts, the same with either engine.</summary>
    string Sha256 { get; }

    /// <summary>Throws <see cref="ArgumentException"/> naming what this engine cannot explain (method, layer, views, score).</summary>
    void CheckServes(string method, ExplainRequest request);

    Explanation Explain(IReadOnlyList<InputImage> images, string method, ExplainRequest request, CancellationToken cancellation = default);
}

/// <summary>The engines by the names users type.</summary>
public static class Engines
{
    public const string Torch = "torch";
    public const string Onnx = "onnx";

    public static IReadOnlyList<string> Names { get; } = [Torch, Onnx];

    public static string Parse(string name, string field) =>
        Names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"{field} '{name}': expected {string.Join(" or ", Names)}");
}
