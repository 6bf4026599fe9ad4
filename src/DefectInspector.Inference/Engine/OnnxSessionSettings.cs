using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace DefectInspector.Inference.Engine;

/// <summary>
/// How ONNX Runtime runs the graph: the execution provider (<see cref="Device"/>) and the session options that matter on
/// a line PC. The defaults are ONNX Runtime's own, measured best on the 2-core CPU (docs/performance.md).
/// </summary>
public sealed record OnnxSessionSettings
{
    /// <summary>cpu, cuda[:N] (CUDA execution provider on GPU N) or tensorrt[:N] (TensorRT, with CUDA for what it leaves).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Threads for one operator; 0 = one per physical core (ONNX Runtime's default).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>all, extended, basic or disabled: ONNX Runtime's graph optimisation level (fusions such as Conv+BatchNorm).</summary>
    public string GraphOptimization { get; init; } = "all";

    /// <summary>Whether the CPU allocator keeps freed blocks for reuse (faster; memory stays at its high-water mark).</summary>
    public bool MemoryArena { get; init; } = true;

    public OnnxDevice ParsedDevice => OnnxDevice.Parse(Device, "Device");

    /// <summary>Throws naming the field and what was expected.</summary>
    public void Validate(string prefix)
    {
        OnnxDevice.Parse(Device, $"{prefix}Device");
        if (IntraOpThreads < 0)
            throw new ArgumentException($"{prefix}IntraOpThreads {IntraOpThreads}: expected 0 (one per core) or more");
        Optimization(prefix);
    }

    public static IReadOnlyList<string> OptimizationLevels { get; } = ["all", "extended", "basic", "disabled"];

    /// <summary>The levels as a message says them.</summary>
    public static string OptimizationChoices => $"{string.Join(", ", OptimizationLevels.Take(OptimizationLevels.Count - 1))} or {OptimizationLevels[^1]}";

    internal GraphOptimizationLevel Optimization(string prefix = "") => GraphOptimization.ToLowerInvariant() switch
    {
        "all" => GraphOptimizationLevel.ORT_ENABLE_ALL,
        "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "disabled" => GraphOptimizationLevel.ORT_DISABLE_ALL,
        _ => throw new ArgumentException($"{prefix}GraphOptimization '{GraphOptimization}': expected {OptimizationChoices}"),
    };
}

/// <summary>An ONNX Runtime execution provider and device index.</summary>
public sealed record OnnxDevice(OnnxProvider Provider, int Index)
{
    public static OnnxDevice Parse(string text, string field)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        var provider = parts[0] switch
        {
            "cpu" => OnnxProvider.Cpu,
            "cuda" => OnnxProvider.Cuda,
            "tensorrt" => OnnxProvider.TensorRt,
            _ => (OnnxProvider?)null,
        };
        int index = 0;
        if (provider is null || parts.Length > 2 || (parts.Length == 2 && (provider == OnnxProvider.Cpu || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out index))))
            throw new ArgumentException($"{field} '{text}': expected cpu, cuda, cuda:N, tensorrt or tensorrt:N");
        return new OnnxDevice(provider.Value, index);
    }

    /// <summary>ONNX Runtime's name for the provider, for messages.</summary>
    public string ProviderName => Provider switch { OnnxProvider.Cuda => "CUDA", OnnxProvider.TensorRt => "TensorRT", _ => "CPU" };

    public override string ToString() => Provider == OnnxProvider.Cpu ? "cpu" : $"{Provider.ToString().ToLowerInvariant()}:{Index}";
}

public enum OnnxProvider
{
    Cpu,
    Cuda,
    TensorRt,
}
