using DefectInspector.Inference.Export;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefectInspector.Inference.Model;

/// <summary>
/// torchvision's BasicBlock (ResNet-18/34): two 3x3 convs and an identity or 1x1 projection. Its dilation
/// (conv1, conv2) serves a stage run without its stride (see <see cref="GapResNet.OutputStride"/>); the weights are the same.
/// </summary>
internal sealed class BasicBlock : Module<Tensor, Tensor>, IExportedBlock
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;
    // A module rather than functional.relu, as in torchvision: explainers hook it (guided backpropagation).
    private readonly ReLU relu = ReLU();
    private readonly ConvSpec spec1;
    private readonly ConvSpec spec2;
    private readonly long stride;

    public const int Expansion = 1;

    public BasicBlock(long inChannels, long channels, long stride, (long First, long Second) dilation = default) : base(nameof(BasicBlock))
    {
        var (d1, d2) = dilation == default ? (1L, 1L) : dilation;
        spec1 = new ConvSpec(stride, d1, d1);
        spec2 = new ConvSpec(1, d2, d2);
        this.stride = stride;
        conv1 = spec1.Create(inChannels, channels, 3);
        bn1 = BatchNorm2d(channels);
        conv2 = spec2.Create(channels, channels, 3);
        bn2 = BatchNorm2d(channels);
        downsample = Projection.IfNeeded(inChannels, channels * Expansion, stride);
        RegisterComponents();
    }

    /// <summary>Writes this block into an ONNX graph after <paramref name="x"/>; returns its output.</summary>
    public string Export(OnnxGraphWriter g, string x, string prefix)
    {
        var y = g.Node("Relu", [TrunkExport.ConvBn(g, x, conv1, spec1, bn1, $"{prefix}.conv1", $"{prefix}.bn1")]);
        y = TrunkExport.ConvBn(g, y, conv2, spec2, bn2, $"{prefix}.conv2", $"{prefix}.bn2");
        var identity = downsample is null ? x : Projection.Export(g, x, downsample, stride, $"{prefix}.downsample");
        return g.Node("Relu", [g.Node("Add", [y, identity])]);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = relu.call(bn1.call(conv1.call(x)));
        y = bn2.call(conv2.call(y));
        var identity = downsample is null ? x : downsample.call(x);
        return relu.call(y.add_(identity)).MoveToOuterDisposeScope();
    }
}

/// <summary>torchvision's Bottleneck (ResNet-50): 1x1 reduce, 3x3 (carrying the stride, or dilated instead), 1x1 expand.</summary>
internal sealed class Bottleneck : Module<Tensor, Tensor>, IExportedBlock
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? downsample;
    // A module rather than functional.relu, as in torchvision: explainers hook it (guided backpropagation).
    private readonly ReLU relu = ReLU();
    private readonly ConvSpec spec2;
    private readonly long stride;

    public const int Expansion = 4;

    public Bottleneck(long inChannels, long channels, long stride, long dilation = 1) : base(nameof(Bottleneck))
    {
        spec2 = new ConvSpec(stride, dilation, dilation);
        this.stride = stride;
        conv1 = ConvSpec.Pointwise.Create(inChannels, channels, 1);
        bn1 = BatchNorm2d(channels);
        conv2 = spec2.Create(channels, channels, 3);
        bn2 = BatchNorm2d(channels);
        conv3 = ConvSpec.Pointwise.Create(channels, channels * Expansion, 1);
        bn3 = BatchNorm2d(channels * Expansion);
        downsample = Projection.IfNeeded(inChannels, channels * Expansion, stride);
        RegisterComponents();
    }

    /// <summary>Writes this block into an ONNX graph after <paramref name="x"/>; returns its output.</summary>
    public string Export(OnnxGraphWriter g, string x, string prefix)
    {
        var y = g.Node("Relu", [TrunkExport.ConvBn(g, x, conv1, ConvSpec.Pointwise, bn1, $"{prefix}.conv1", $"{prefix}.bn1")]);
        y = g.Node("Relu", [TrunkExport.ConvBn(g, y, conv2, spec2, bn2, $"{prefix}.conv2", $"{prefix}.bn2")]);
        y = TrunkExport.ConvBn(g, y, conv3, ConvSpec.Pointwise, bn3, $"{prefix}.conv3", $"{prefix}.bn3");
        var identity = downsample is null ? x : Projection.Export(g, x, downsample, stride, $"{prefix}.downsample");
        return g.Node("Relu", [g.Node("Add", [y, identity])]);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = relu.call(bn1.call(conv1.call(x)));
        y = relu.call(bn2.call(conv2.call(y)));
        y = bn3.call(conv3.call(y));
        var identity = downsample is null ? x : downsample.call(x);
        return relu.call(y.add_(identity)).MoveToOuterDisposeScope();
    }
}

/// <summary>A residual block that can write itself into an ONNX graph.</summary>
internal interface IExportedBlock
{
    string Export(OnnxGraphWriter g, string x, string prefix);
}

internal static class Projection
{
    /// <summary>The 1x1 strided conv + BN shortcut, named downsample.0 / downsample.1 as in torchvision.</summary>
    public static Sequential? IfNeeded(long inChannels, long outChannels, long stride) =>
        stride == 1 && inChannels == outChannels
            ? null
            : Sequential(("0", new ConvSpec(stride, 0, 1).Create(inChannels, outChannels, 1)), ("1", BatchNorm2d(outChannels)));

    public static string Export(OnnxGraphWriter g, string x, Sequential projection, long stride, string prefix)
    {
        var modules = projection.children().ToList();
        return TrunkExport.ConvBn(g, x, (Conv2d)modules[0], new ConvSpec(stride, 0, 1), (BatchNorm2d)modules[1], $"{prefix}.0", $"{prefix}.1");
    }
}

/// <summary>
/// A conv's stride, (symmetric) padding and dilation: kept beside the module because the ONNX export writes them
/// out again, and TorchSharp's Conv2d does not hand them back.
/// </summary>
internal readonly record struct ConvSpec(long Stride, long Padding, long Dilation)
{
    public static ConvSpec Pointwise { get; } = new(1, 0, 1);

    public Conv2d Create(long inChannels, long outChannels, long kernel) =>
        Conv2d(inChannels, outChannels, kernel, stride: Stride, padding: Padding, dilation: Dilation, bias: false);
}
