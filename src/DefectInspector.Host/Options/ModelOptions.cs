using DefectInspector.Inference.Engine;

namespace DefectInspector.Host.Options;

/// <summary>Configuration section "Model".</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>A model bundle (.dimodel) or its exported graph (.onnx); empty = the built-in demo model, trained on first start into Storage:Path.</summary>
    public string Path { get; set; } = "";

    /// <summary>onnx (ONNX Runtime: the faster on the CPU, and the GPU path) or torch (TorchSharp: every explainer and layer).</summary>
    public string Engine { get; set; } = Engines.Onnx;

    /// <summary>cpu; cuda or cuda:N (either engine); tensorrt or tensorrt:N (onnx engine).</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Explainer: cam, gradcam, gradcam++, layercam or scorecam (torch engine); empty = the bundle's.</summary>
    public string Method { get; set; } = "";

    /// <summary>Layer to explain: layer1..layer4 (layer4 only on the onnx engine); empty = the bundle's.</summary>
    public string Layer { get; set; } = "";

    /// <summary>
    /// Where the built-in demo model trains: TorchSharp, so the CPU unless the torch engine is given a CUDA device (the
    /// onnx engine's devices, tensorrt among them, are ONNX Runtime's).
    /// </summary>
    public string DemoTrainingDevice => string.Equals(Engine, Engines.Onnx, StringComparison.OrdinalIgnoreCase) ? "cpu" : Device;

    /// <summary>
    /// Model class -> the plant's defect code (e.g. Model:DefectCodes:crack=D-104), carried as defectCode in verdicts
    /// and events; classes left out carry none. Every key must be a class of the model.
    /// </summary>
    public Dictionary<string, string> DefectCodes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>ONNX Runtime's session options (Model:Onnx:*), used by the onnx engine.</summary>
    public OnnxOptions Onnx { get; set; } = new();
}

/// <summary>Configuration section "Model:Onnx": how ONNX Runtime runs the graph.</summary>
public sealed class OnnxOptions
{
    /// <summary>Threads for one operator; 0 = one per physical core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>all, extended, basic or disabled.</summary>
    public string GraphOptimization { get; set; } = "all";

    /// <summary>Keep freed CPU blocks for reuse (faster; memory stays at its high-water mark).</summary>
    public bool MemoryArena { get; set; } = true;

    public OnnxSessionSettings ToSettings(string device) =>
        new() { Device = device, IntraOpThreads = IntraOpThreads, GraphOptimization = GraphOptimization, MemoryArena = MemoryArena };
}
