namespace DefectInspector.Inference.Model;

/// <summary>Names of the conv stages a map can be taken from.</summary>
public static class Layers
{
    public const string Last = "layer4";

    public static IReadOnlyList<string> Names { get; } = ["layer1", "layer2", "layer3", "layer4"];

    public static int ToStage(string layer)
    {
        int index = Names.ToList().FindIndex(n => string.Equals(n, layer, StringComparison.OrdinalIgnoreCase));
        return index >= 0
            ? index + 1
            : throw new ArgumentException($"layer '{layer}': expected one of {string.Join(", ", Names)}, or several comma-separated for layercam");
    }

    /// <summary>
    /// The stages of one layer ("layer4") or a comma-separated list of layers to fuse ("layer2,layer3,layer4"), shallow
    /// to deep, each once.
    /// </summary>
    public static IReadOnlyList<int> ToStages(string layers)
    {
        var stages = layers.Split(',', StringSplitOptions.TrimEntries).Select(ToStage).Order().ToList();
        if (stages.Distinct().Count() != stages.Count)
            throw new ArgumentException($"layer '{layers}': expected each layer once");
        return stages;
    }

    public static string FromStage(int stage) => Names[stage - 1];
}
