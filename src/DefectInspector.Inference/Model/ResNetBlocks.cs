using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefectInspector.Inference.Model;

/// <summary>
/// torchvision's BasicBlock (ResNet-18/34): two 3x3 convs and an identity or 1x1 projection. <paramref name="dilation"/>
/// (conv1, conv2) serves a stage run without its stride (see <see cref="GapResNet.OutputStride"/>); the weights are the same.
/// </summary>
internal sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    public const int Expansion = 1;

    public BasicBlock(long inChannels, long channels, long stride, (long First, long Second) dilation = default) : base(nameof(BasicBlock))
    {
        var (d1, d2) = dilation == default ? (1L, 1L) : dilation;
        conv1 = Conv2d(inChannels, channels, 3, stride: stride, padding: d1, dilation: d1, bias: false);
        bn1 = BatchNorm2d(channels);
        conv2 = Conv2d(channels, channels, 3, padding: d2, dilation: d2, bias: false);
        bn2 = BatchNorm2d(channels);
        downsample = Projection.IfNeeded(inChannels, channels * Expansion, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.call(conv1.call(x)));
        y = bn2.call(conv2.call(y));
        var identity = downsample is null ? x : downsample.call(x);
        return functional.relu(y.add_(identity)).MoveToOuterDisposeScope();
    }
}

/// <summary>torchvision's Bottleneck (ResNet-50): 1x1 reduce, 3x3 (carrying the stride, or <paramref name="dilation"/>), 1x1 expand.</summary>
internal sealed class Bottleneck : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? downsample;

    public const int Expansion = 4;

    public Bottleneck(long inChannels, long channels, long stride, long dilation = 1) : base(nameof(Bottleneck))
    {
        conv1 = Conv2d(inChannels, channels, 1, bias: false);
        bn1 = BatchNorm2d(channels);
        conv2 = Conv2d(channels, channels, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn2 = BatchNorm2d(channels);
        conv3 = Conv2d(channels, channels * Expansion, 1, bias: false);
        bn3 = BatchNorm2d(channels * Expansion);
        downsample = Projection.IfNeeded(inChannels, channels * Expansion, stride);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.call(conv1.call(x)));
        y = functional.relu(bn2.call(conv2.call(y)));
        y = bn3.call(conv3.call(y));
        var identity = downsample is null ? x : downsample.call(x);
        return functional.relu(y.add_(identity)).MoveToOuterDisposeScope();
    }
}

internal static class Projection
{
    /// <summary>The 1x1 strided conv + BN shortcut, named downsample.0 / downsample.1 as in torchvision.</summary>
    public static Sequential? IfNeeded(long inChannels, long outChannels, long stride) =>
        stride == 1 && inChannels == outChannels
            ? null
            : Sequential(("0", Conv2d(inChannels, outChannels, 1, stride: stride, bias: false)), ("1", BatchNorm2d(outChannels)));
}
