using System.Runtime.InteropServices;

namespace DefectInspector.Inference.Engine;

/// <summary>
/// The NVIDIA libraries ONNX Runtime's GPU providers load at session start. ONNX Runtime reports only the first one it
/// misses, deep in a dlopen message; this names every missing one up front, so a plant engineer installs them in one go.
/// </summary>
public static class GpuLibraries
{
    // What Microsoft.ML.OnnxRuntime.Gpu.Linux 1.32.0's providers link (readelf -d) or load: the driver, CUDA 13, cuDNN 9;
    // TensorRT 10 for the TensorRT provider.
    private static readonly string[] Cuda =
        ["libcuda.so.1", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10", "libcudnn.so.9"];

    private static readonly string[] TensorRt = ["libnvinfer.so.10", "libnvonnxparser.so.10"];

    /// <summary>The shared libraries <paramref name="provider"/> needs that this process cannot load.</summary>
    public static IReadOnlyList<string> Missing(OnnxProvider provider)
    {
        var needed = provider switch
        {
            OnnxProvider.Cuda => Cuda,
            OnnxProvider.TensorRt => [.. Cuda, .. TensorRt],
            _ => [],
        };
        var missing = new List<string>();
        foreach (string library in needed)
        {
            if (NativeLibrary.TryLoad(library, out var handle)) NativeLibrary.Free(handle);
            else missing.Add(library);
        }
        return missing;
    }

    /// <summary>What to do about <paramref name="provider"/> failing to start, for the start-up error.</summary>
    public static string Advice(OnnxProvider provider)
    {
        var missing = Missing(provider);
        string build = "a GPU build (dotnet publish -p:OnnxRuntimeFlavour=gpu, or the Docker image's gpu target; docs/gpu.md)";
        return missing.Count > 0
            ? $"missing {string.Join(", ", missing)}: install the NVIDIA driver, the CUDA 13 runtime, cuDNN 9{(provider == OnnxProvider.TensorRt ? " and TensorRT 10" : "")} and run {build}"
            : $"the NVIDIA libraries load, so check that this is {build} and that a GPU and its driver are visible (nvidia-smi)";
    }
}
