using System.Globalization;
using DefectInspector.Core.Explain;
using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Export;
using Microsoft.ML.OnnxRuntime;

namespace DefectInspector.Inference.Engine;

/// <summary>
/// The exported graph (<see cref="OnnxExport"/>) in ONNX Runtime: one session for the process, on the CPU, CUDA or
/// TensorRT, fed from buffers allocated once per batch size. Serves what the graph carries: CAM and the closed-form
/// layer4 Grad-CAM family, at the views and map score it was exported with. Never touches TorchSharp, so a daemon on this
/// engine and an .onnx model does not load libtorch.
/// </summary>
public sealed class OnnxEngine : IInferenceEngine
{
    // Batch sizes come from the daemon's micro-batching (1..MaxBatchSize) and evaluate's batches: a handful of sizes.
    private const int MaxCachedBatchSizes = 16;

    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly Dictionary<int, Buffers> buffers = [];
    private readonly int classes;
    private readonly int mapHeight;
    private readonly int mapWidth;

    private readonly IReadOnlySet<string> methods;

    private OnnxEngine(InferenceSession session, BundleMetadata metadata, string sha256, OnnxDevice device, int mapHeight, int mapWidth, IReadOnlySet<string> methods)
    {
        this.methods = methods;
        this.session = session;
        Metadata = metadata;
        Sha256 = sha256;
        Device = device.ToString();
        classes = metadata.Classes.Count;
        this.mapHeight = mapHeight;
        this.mapWidth = mapWidth;
    }

    public string Name => Engines.Onnx;

    public string Device { get; }

    public BundleMetadata Metadata { get; }

    public string Sha256 { get; }

    /// <summary>Opens an exported .onnx file.</summary>
    public static OnnxEngine Open(string path, OnnxSessionSettings settings)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the ONNX model: {e.Message}", e);
        }
        return FromBytes(bytes, settings, path);
    }

    /// <summary>A session over an exported graph's bytes; <paramref name="source"/> names it in errors.</summary>
    public static OnnxEngine FromBytes(byte[] onnx, OnnxSessionSettings settings, string source)
    {
        var device = OnnxDevice.Parse(settings.Device, "Device");
        using var options = SessionOptions(settings, device, settings.Device);
        InferenceSession session;
        try
        {
            session = new InferenceSession(onnx, options);
        }
        catch (OnnxRuntimeException e) when (device.Provider != OnnxProvider.Cpu && !IsModelError(e))
        {
            throw new EngineUnavailableException($"device '{settings.Device}': ONNX Runtime's {device.ProviderName} provider did not start ({FirstLine(e.Message)}); {GpuLibraries.Advice(device.Provider)}", e);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{source}: not an ONNX model ONNX Runtime can load: {FirstLine(e.Message)}", e);
        }
        try
        {
            var (metadata, sha, h, w, methods) = ReadMetadata(session, source);
            return new OnnxEngine(session, metadata, sha, device, h, w, methods);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public void CheckServes(string method, ExplainRequest request)
    {
        method = CamMethods.Canonical(method);
        if (!OnnxExport.MapOutputs.ContainsKey(method))
            throw new ArgumentException($"method '{method}': the onnx engine serves {string.Join(", ", OnnxExport.MapOutputs.Keys)} (layer4, closed form); autograd methods and Score-CAM run on the torch engine (--engine torch, Model:Engine=torch)");
        if (!methods.Contains(method))
            throw new ArgumentException($"method '{method}': this ONNX graph carries no maps (exported for the logits alone)");
        if (!string.Equals(request.Layer, Model.Layers.Last, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"layer '{request.Layer}': the onnx engine explains {Model.Layers.Last} only; earlier layers need autograd, on the torch engine (--engine torch, Model:Engine=torch)");
        if (request.Views != Metadata.Views)
            throw new ArgumentException($"views {request.Views}: this ONNX graph was exported with {Metadata.Views}; export it again with --views {request.Views}, or use the torch engine");
        if (request.Score != Metadata.Explainer.Score)
            throw new ArgumentException($"map score {request.Score.ToString().ToLowerInvariant()}: this ONNX graph was exported with {Metadata.Explainer.Score.ToString().ToLowerInvariant()} maps; export it again with --map-score, or use the torch engine");
        if (request.TargetClass is int c && (c < 0 || c >= classes))
            throw new ArgumentOutOfRangeException(nameof(request), $"target class {c}: expected 0..{classes - 1}");
    }

    public Explanation Explain(IReadOnlyList<InputImage> images, string method, ExplainRequest request, CancellationToken cancellation = default)
    {
        CheckServes(method, request);
        cancellation.ThrowIfCancellationRequested();
        var spec = Metadata.Preprocessing;
        var b = Fill(images);
        string name = CamMethods.Canonical(method);
        string output = OnnxExport.MapOutputs[name];
        var maps = b.Map(output, classes * mapHeight * mapWidth);
        session.Run(runOptions, [OnnxExport.InputName], [b.InputValue], [OnnxExport.LogitsName, output], [b.LogitsValue, maps.Value]);

        int good = Metadata.GoodClassIndex, mapSize = mapHeight * mapWidth;
        var items = new List<(Heatmap, float[])>(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var logits = b.Logits.AsSpan(i * classes, classes).ToArray();
            int target = TargetClasses.Resolve(logits, good, request.TargetClass);
            var raw = maps.Data.AsSpan((i * classes + target) * mapSize, mapSize).ToArray();
            items.Add(Explanation.Item(name, request.Layer, target, new FloatMap(mapWidth, mapHeight, raw), logits, spec.Width, spec.Height));
        }
        return Explanation.Of(items);
    }

    /// <summary>The logits alone, each image a row: the forward pass, for comparing what the maps cost.</summary>
    public float[][] Forward(IReadOnlyList<InputImage> images)
    {
        var b = Fill(images);
        session.Run(runOptions, [OnnxExport.InputName], [b.InputValue], [OnnxExport.LogitsName], [b.LogitsValue]);
        return Enumerable.Range(0, images.Count).Select(i => b.Logits.AsSpan(i * classes, classes).ToArray()).ToArray();
    }

    public void Dispose()
    {
        foreach (var b in buffers.Values) b.Dispose();
        runOptions.Dispose();
        session.Dispose();
    }

    /// <summary>The batch size's buffers with <paramref name="images"/> copied in.</summary>
    private Buffers Fill(IReadOnlyList<InputImage> images)
    {
        if (images.Count == 0) throw new ArgumentException("a batch needs at least one image", nameof(images));
        var spec = Metadata.Preprocessing;
        var b = BuffersFor(images.Count);
        int plane = 3 * spec.Height * spec.Width;
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Width != spec.Width || images[i].Height != spec.Height)
                throw new ArgumentException($"image {i} is {images[i].Width}x{images[i].Height}; the model expects {spec.Width}x{spec.Height}");
            images[i].Chw.CopyTo(b.Input, i * plane);
        }
        return b;
    }

    private Buffers BuffersFor(int n)
    {
        if (buffers.TryGetValue(n, out var b)) return b;
        if (buffers.Count >= MaxCachedBatchSizes)
        {
            foreach (var old in buffers.Values) old.Dispose();
            buffers.Clear();
        }
        var spec = Metadata.Preprocessing;
        return buffers[n] = new Buffers(n, spec.Height, spec.Width, classes, mapHeight, mapWidth);
    }

    private static SessionOptions SessionOptions(OnnxSessionSettings settings, OnnxDevice device, string named)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = settings.IntraOpThreads,
            GraphOptimizationLevel = settings.Optimization(),
            EnableCpuMemArena = settings.MemoryArena,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        // Between frames the line PC has capture, JPEG and MQTT to do: threads that spin while idle would take their cores.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            if (device.Provider == OnnxProvider.TensorRt) options.AppendExecutionProvider_Tensorrt(device.Index);
            // TensorRT hands what it cannot build to CUDA, and CUDA what it has no kernel for to the CPU.
            if (device.Provider is OnnxProvider.Cuda or OnnxProvider.TensorRt) options.AppendExecutionProvider_CUDA(device.Index);
            return options;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            options.Dispose();
            throw new EngineUnavailableException($"device '{named}': ONNX Runtime's {device.ProviderName} provider did not load ({FirstLine(e.Message)}); {GpuLibraries.Advice(device.Provider)}", e);
        }
    }

    private static (BundleMetadata Metadata, string Sha256, int H, int W, IReadOnlySet<string> Methods) ReadMetadata(InferenceSession session, string source)
    {
        var props = session.ModelMetadata.CustomMetadataMap;
        if (!props.TryGetValue(OnnxExport.FormatKey, out var format) || format != OnnxExport.FormatValue || !props.TryGetValue(OnnxExport.MetadataKey, out var json))
            throw new InvalidDataException($"{source}: an ONNX model but not one exported by `defect-inspector export` (no '{OnnxExport.FormatKey}: {OnnxExport.FormatValue}' metadata)");
        var metadata = BundleMetadata.FromJson(json, source);
        string sha = props.GetValueOrDefault(OnnxExport.SourceSha256Key) ?? "";
        var size = props.GetValueOrDefault(OnnxExport.FeatureSizeKey)?.Split('x');
        if (size is not { Length: 2 } || !int.TryParse(size[0], NumberStyles.None, CultureInfo.InvariantCulture, out int h)
            || !int.TryParse(size[1], NumberStyles.None, CultureInfo.InvariantCulture, out int w))
            throw new InvalidDataException($"{source}: metadata '{OnnxExport.FeatureSizeKey}' should be HxW, got '{props.GetValueOrDefault(OnnxExport.FeatureSizeKey)}'");
        var methods = (props.GetValueOrDefault(OnnxExport.MethodsKey) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (string output in methods.Where(OnnxExport.MapOutputs.ContainsKey).Select(m => OnnxExport.MapOutputs[m]).Append(OnnxExport.LogitsName))
            if (!session.OutputMetadata.ContainsKey(output))
                throw new InvalidDataException($"{source}: output '{output}' missing; export the model again with this version");
        return (metadata, sha, h, w, methods);
    }

    // Provider failures surface when the session is created too; a model error names the graph, nodes or the protobuf.
    private static bool IsModelError(OnnxRuntimeException e) =>
        e.Message.Contains("Protobuf", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("ModelProto", StringComparison.Ordinal)
        || e.Message.Contains("INVALID_GRAPH", StringComparison.Ordinal) || e.Message.Contains("INVALID_PROTOBUF", StringComparison.Ordinal);

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <summary>One batch size's input and output memory, pinned once and handed to ONNX Runtime on every run.</summary>
    private sealed class Buffers : IDisposable
    {
        private readonly Dictionary<string, (float[] Data, OrtValue Value)> maps = new(StringComparer.Ordinal);
        private readonly long[] mapShape;

        public Buffers(int n, int height, int width, int classes, int mapHeight, int mapWidth)
        {
            Input = new float[n * 3 * height * width];
            InputValue = OrtValue.CreateTensorValueFromMemory(Input, [n, 3, height, width]);
            Logits = new float[n * classes];
            LogitsValue = OrtValue.CreateTensorValueFromMemory(Logits, [n, classes]);
            mapShape = [n, classes, mapHeight, mapWidth];
        }

        public float[] Input { get; }

        public OrtValue InputValue { get; }

        public float[] Logits { get; }

        public OrtValue LogitsValue { get; }

        public (float[] Data, OrtValue Value) Map(string output, int perImage)
        {
            if (maps.TryGetValue(output, out var map)) return map;
            var data = new float[mapShape[0] * perImage];
            return maps[output] = (data, OrtValue.CreateTensorValueFromMemory(data, mapShape));
        }

        public void Dispose()
        {
            InputValue.Dispose();
            LogitsValue.Dispose();
            foreach (var (_, value) in maps.Values) value.Dispose();
        }
    }
}

/// <summary>The configured engine cannot run here (e.g. a GPU provider without its libraries); the message says what is missing.</summary>
public sealed class EngineUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
