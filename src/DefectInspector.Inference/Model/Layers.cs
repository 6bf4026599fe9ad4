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
            : throw new ArgumentException($"layer '{layer}': expected one of {string.Join(", ", Names)}");
    }

    public static string FromStage(int stage) => Names[stage - 1];
}
