using System.Collections;
using System.Globalization;
using DefectInspector.Inference.Model;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Weights;

/// <summary>
/// PyTorch state dicts with torchvision names, as saved by Python (torch.save(model.state_dict()) or safetensors),
/// checked tensor by tensor against the model before anything is copied.
/// </summary>
public static class StateDict
{
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: weights file not found", path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        var tensors = extension switch
        {
            ".safetensors" or Bundle.ModelBundle.Extension => SafetensorsFile.Read(path).Tensors,
            ".pt" or ".pth" or ".bin" => ReadPickled(path),
            _ => throw new InvalidDataException($"{path}: unsupported weights format '{extension}': expected .safetensors, .pt or .pth (a state dict)"),
        };
        return StripDataParallelPrefix(tensors);
    }

    /// <summary>Reads a state dict file and loads it as <see cref="LoadInto"/> does; the file's tensors are freed after.</summary>
    public static void LoadFile(GapResNet model, string path, bool includeHead = true)
    {
        var tensors = Read(path);
        try
        {
            LoadInto(model, tensors, path, includeHead);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Copies <paramref name="tensors"/> into <paramref name="model"/>, or throws naming every offending tensor before
    /// anything is copied. Without <paramref name="includeHead"/> only the trunk is loaded: fc keeps its values and
    /// any fc.* tensors given (a whole model used as a starting trunk) are passed over.
    /// </summary>
    public static void LoadInto(GapResNet model, IReadOnlyDictionary<string, Tensor> tensors, string source, bool includeHead = true)
    {
        var expected = model.state_dict()
            .Where(e => includeHead || !IsHead(e.Key))
            .ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, target) in expected)
        {
            if (!tensors.TryGetValue(name, out var found))
            {
                // Older checkpoints predate BN's step counter; it plays no part in inference.
                if (!name.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                    problems.Add($"missing    {name}: expected shape {Shape(target)}");
            }
            else if (!found.shape.SequenceEqual(target.shape) && !(target.NumberOfElements == 1 && found.NumberOfElements == 1))
            {
                problems.Add($"mis-shaped {name}: expected shape {Shape(target)}, found {Shape(found)}");
            }
        }
        foreach (var (name, found) in tensors)
            if (!expected.ContainsKey(name) && (includeHead || !IsHead(name)))
                problems.Add($"unexpected {name}: shape {Shape(found)} has no place in a {model.Architecture.Name} with {model.NumClasses} classes");
        if (problems.Count > 0)
            throw new WeightsMismatchException(source, model.Architecture.Name, problems);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, target) in expected)
            if (tensors.TryGetValue(name, out var found))
                target.copy_(found.to(target.dtype, target.device).reshape(target.shape));
    }

    private static bool IsHead(string name) => name.StartsWith("fc.", StringComparison.Ordinal);

    private static Dictionary<string, Tensor> ReadPickled(string path)
    {
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: not a PyTorch state dict saved with torch.save(model.state_dict()) ({e.Message})", e);
        }
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
            if (entry.Key is string name && entry.Value is Tensor tensor)
                tensors[name] = tensor;
        return tensors;
    }

    private static Dictionary<string, Tensor> StripDataParallelPrefix(Dictionary<string, Tensor> tensors)
    {
        const string prefix = "module.";
        if (tensors.Count == 0 || !tensors.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal)))
            return tensors;
        return tensors.ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}

/// <summary>A weights file that does not fit the model; the message lists each offending tensor.</summary>
public sealed class WeightsMismatchException(string source, string architecture, IReadOnlyList<string> problems)
    : Exception($"{source}: weights do not fit {architecture} ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):{Environment.NewLine}  " +
                string.Join(Environment.NewLine + "  ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
