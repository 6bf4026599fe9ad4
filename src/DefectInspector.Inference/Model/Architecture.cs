namespace DefectInspector.Inference.Model;

/// <summary>The ResNet trunks the product serves, in torchvision's topology and parameter names.</summary>
public sealed record Architecture(string Name, bool Bottleneck, int[] Blocks)
{
    public static readonly Architecture ResNet18 = new("resnet18", false, [2, 2, 2, 2]);
    public static readonly Architecture ResNet34 = new("resnet34", false, [3, 4, 6, 3]);
    public static readonly Architecture ResNet50 = new("resnet50", true, [3, 4, 6, 3]);

    /// <summary>
    /// CNTK's ResNet-18, the topology of the ImageNet weights shipped in Microsoft.ML.DnnImageFeaturizer.ResNet18:
    /// torchvision's ResNet-18 with a third BasicBlock in layer4.
    /// </summary>
    public static readonly Architecture ResNet18Cntk = new("resnet18-cntk", false, [2, 2, 2, 3]);

    public static IReadOnlyList<Architecture> All { get; } = [ResNet18, ResNet34, ResNet50, ResNet18Cntk];

    /// <summary>Channels of the last conv stage (the features the GAP head pools).</summary>
    public int FeatureChannels => Bottleneck ? 2048 : 512;

    /// <summary>Output channels of stage 1..4.</summary>
    public int StageChannels(int stage) => (Bottleneck ? 256 : 64) << (stage - 1);

    public static Architecture Parse(string name) =>
        All.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"architecture '{name}': expected one of {string.Join(", ", All.Select(a => a.Name))}");
}
