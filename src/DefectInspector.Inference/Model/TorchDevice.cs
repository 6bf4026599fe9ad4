using static TorchSharp.torch;

namespace DefectInspector.Inference.Model;

/// <summary>Turns the configured device name into a TorchSharp device, failing clearly when CUDA is absent.</summary>
public static class TorchDevice
{
    public static Device Resolve(string name)
    {
        string normalized = name.Trim().ToLowerInvariant();
        if (normalized == "cpu") return CPU;
        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new InvalidOperationException(
                    $"device '{name}': TorchSharp's CUDA backend is not available in this build or no GPU is visible. " +
                    "This build references libtorch-cpu (the package registry serves no CUDA libtorch): serve on the GPU with " +
                    "the onnx engine (--engine onnx, Model:Engine=onnx; docs/gpu.md), or use --device cpu.");
            return device(normalized);
        }
        throw new ArgumentException($"device '{name}': expected cpu, cuda or cuda:N");
    }

    /// <summary>Throws what <see cref="Resolve"/> would, for callers that check a setting without handling tensors.</summary>
    public static void Check(string name) => Resolve(name);
}
