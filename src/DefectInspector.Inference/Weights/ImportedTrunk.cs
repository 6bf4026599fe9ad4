using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Weights;

/// <summary>
/// A pretrained trunk in torchvision names (conv1, bn1, layer1.0.conv1, ..., layer4.1.bn2; no fc), the
/// preprocessing it was trained with, and where it came from. Owns its tensors.
/// </summary>
public sealed class ImportedTrunk : IDisposable
{
    internal ImportedTrunk(
        Architecture architecture, Dictionary<string, Tensor> stateDict, Preprocessing preprocessing,
        string inputName, string featuresOutputName, float batchNormEpsilon, float meanImageMaxDeviation,
        string sourcePath, string sha256, string preprocessSourcePath, string preprocessSha256, string provenance)
    {
        Architecture = architecture;
        StateDict = stateDict;
        Preprocessing = preprocessing;
        InputName = inputName;
        FeaturesOutputName = featuresOutputName;
        BatchNormEpsilon = batchNormEpsilon;
        MeanImageMaxDeviation = meanImageMaxDeviation;
        SourcePath = sourcePath;
        Sha256 = sha256;
        PreprocessSourcePath = preprocessSourcePath;
        PreprocessSha256 = preprocessSha256;
        Provenance = provenance;
    }

    public Architecture Architecture { get; }

    /// <summary>Trunk tensors by torchvision name, BatchNorm statistics included (num_batches_tracked and fc.* excluded).</summary>
    public Dictionary<string, Tensor> StateDict { get; }

    /// <summary>The input transform the trunk was trained with (see <see cref="MeanImageMaxDeviation"/> for its one approximation).</summary>
    public Preprocessing Preprocessing { get; }

    /// <summary>The ONNX graph's image input (Input247 in ML.NET's file), for comparisons against ONNX Runtime.</summary>
    public string InputName { get; }

    /// <summary>The ONNX graph's GAP feature output (Pooling395_Output_0 in ML.NET's file).</summary>
    public string FeaturesOutputName { get; }

    /// <summary>The BatchNormalization epsilon in the file; any difference from torchvision's 1e-5 is folded into running_var.</summary>
    public float BatchNormEpsilon { get; }

    /// <summary>
    /// How far, in 0-255 grey levels, the CNTK mean image strays from the per-channel means in <see cref="Preprocessing"/>:
    /// the largest per-pixel error the per-channel approximation adds to the network input.
    /// </summary>
    public float MeanImageMaxDeviation { get; }

    public string SourcePath { get; }

    /// <summary>SHA-256 (lower-case hex) of the trunk file.</summary>
    public string Sha256 { get; }

    public string PreprocessSourcePath { get; }

    public string PreprocessSha256 { get; }

    /// <summary>One paragraph for logs and bundle metadata: files, hashes, producer, and the preprocessing derived.</summary>
    public string Provenance { get; }

    /// <summary>A new model of this trunk's architecture with the imported trunk and a freshly initialised fc.</summary>
    public GapResNet CreateModel(int numClasses)
    {
        var model = new GapResNet(Architecture, numClasses);
        try
        {
            LoadInto(model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies every trunk tensor into <paramref name="model"/> (on whatever device it lives); fc keeps its values.
    /// Throws before changing anything when the architecture differs or a trunk tensor is missing or misshapen.
    /// </summary>
    public void LoadInto(GapResNet model)
    {
        ArgumentNullException.ThrowIfNull(model);
        // Block counts, not names or array identity, decide whether the layers line up.
        if (model.Architecture.Bottleneck != Architecture.Bottleneck || !model.Architecture.Blocks.SequenceEqual(Architecture.Blocks))
            throw new ArgumentException(
                $"model: trunk imported from '{SourcePath}' is {Architecture.Name} (blocks per stage [{string.Join(",", Architecture.Blocks)}]); " +
                $"expected a GapResNet of that architecture (new GapResNet(trunk.Architecture, classes) or trunk.CreateModel), " +
                $"got {model.Architecture.Name} [{string.Join(",", model.Architecture.Blocks)}]");
        Weights.StateDict.LoadInto(model, StateDict, SourcePath, includeHead: false);
    }

    /// <summary>The model's state-dict entries an imported trunk provides: everything but the head and BatchNorm's step counters.</summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> TrunkEntries(GapResNet model) =>
        model.state_dict().Where(e => !e.Key.StartsWith("fc.", StringComparison.Ordinal)
                                      && !e.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal));

    public void Dispose()
    {
        foreach (var tensor in StateDict.Values) tensor.Dispose();
        StateDict.Clear();
    }
}
