using DefectInspector.Inference.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DefectInspector.Inference.Model;

/// <summary>
/// A ResNet trunk with the head CAM needs: global average pooling and one Linear(C, classes).
/// Parameter names follow torchvision (conv1, bn1, layer1.0.conv1, ..., fc) so PyTorch state dicts load as they are.
/// Stages are numbered 1..4 (layer1..layer4); stage 0 is the stem (conv1, bn1, relu, maxpool).
/// </summary>
/// <remarks>
/// <see cref="OutputStride"/> 16 runs layer4 without its stride and with its later 3x3 convs dilated by 2, the same
/// weights (the "a trous" conversion): the features at even positions are exactly those of output stride 32, the ones
/// between are computed, not interpolated. CAM then has a 2x finer map (16x16 at 256 px instead of 8x8) for about
/// 1.6x the forward cost; the pooled features, and so the scores, move slightly, which is why a bundle is calibrated
/// at the stride it is served with.
/// </remarks>
public sealed class GapResNet : Module<Tensor, Tensor>
{
    public const int LastStage = 4;

    private static readonly ConvSpec StemConv = new(2, 3, 1);

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    // A module rather than functional.relu, as in torchvision: explainers hook it (guided backpropagation).
    private readonly ReLU relu = ReLU();
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly Linear fc;

    public GapResNet(Architecture architecture, int numClasses, int outputStride = 32) : base(nameof(GapResNet))
    {
        if (numClasses < 2)
            throw new ArgumentException($"classes: a classifier needs at least 2 classes, got {numClasses}");
        if (outputStride is not (16 or 32))
            throw new ArgumentException($"outputStride {outputStride}: expected 16 or 32");
        Architecture = architecture;
        NumClasses = numClasses;
        OutputStride = outputStride;
        Nnpack.TurnOffWhereUnavailable();

        conv1 = StemConv.Create(3, 64, 7);
        bn1 = BatchNorm2d(64);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        long inChannels = 64;
        layer1 = Stage(architecture, ref inChannels, 64, architecture.Blocks[0], 1);
        layer2 = Stage(architecture, ref inChannels, 128, architecture.Blocks[1], 2);
        layer3 = Stage(architecture, ref inChannels, 256, architecture.Blocks[2], 2);
        layer4 = Stage(architecture, ref inChannels, 512, architecture.Blocks[3], outputStride == 32 ? 2 : 1, dilated: outputStride == 16);
        fc = Linear(inChannels, numClasses);
        RegisterComponents();
    }

    public Architecture Architecture { get; }

    public int NumClasses { get; }

    /// <summary>Input pixels per last-stage feature: 32 (the trained network as is) or 16 (layer4 dilated).</summary>
    public int OutputStride { get; }

    /// <summary>The head's weights, [classes, C]: CAM's w^c.</summary>
    public Tensor ClassWeights => fc.weight!;

    /// <summary>The head's bias, [classes].</summary>
    public Tensor ClassBias => fc.bias!;

    /// <summary>Logits only; see <see cref="Run"/> for logits and features.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Head(Features(input, 0, LastStage)).MoveToOuterDisposeScope();
    }

    /// <summary>One pass that returns the logits and the last conv stage's features.</summary>
    public GapOutput Run(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = Features(input, 0, LastStage);
        var logits = Head(features);
        return new GapOutput(logits.MoveToOuterDisposeScope(), features.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Runs stages (from, to]: from = 0 starts at the image, to = 4 ends at the last conv features.
    /// Earlier stages' outputs serve layer-wise CAMs.
    /// </summary>
    public Tensor Features(Tensor x, int fromStage, int toStage)
    {
        if (fromStage < 0 || toStage > LastStage || fromStage >= toStage)
            throw new ArgumentOutOfRangeException(nameof(toStage), $"stages ({fromStage}, {toStage}]: expected 0 <= from < to <= {LastStage}");
        using var scope = NewDisposeScope();
        for (int stage = fromStage + 1; stage <= toStage; stage++)
            x = stage switch
            {
                1 => layer1.call(maxpool.call(relu.call(bn1.call(conv1.call(x))))),
                2 => layer2.call(x),
                3 => layer3.call(x),
                _ => layer4.call(x),
            };
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Global average pooling + the linear layer.</summary>
    public Tensor Head(Tensor features)
    {
        using var scope = NewDisposeScope();
        return fc.call(features.mean([2L, 3L])).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The head applied at every location of <paramref name="features"/> [N, C, h, w]: logits [N, classes, h, w]. Their
    /// spatial mean is <see cref="Head"/>'s logits, since pooling and the linear layer commute; each class's map is its
    /// CAM plus the bias, the quantity location supervision trains.
    /// </summary>
    public Tensor LocationLogits(Tensor features)
    {
        using var scope = NewDisposeScope();
        var logits = einsum("nchw,kc->nkhw", features, fc.weight!) + fc.bias!.view(1, -1, 1, 1);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Last-stage maps [N, h, w] placed where a resize to the frame (half-pixel centres) draws them. At output stride
    /// 32 they are returned as they are. The a trous conversion keeps stride-32 cell i at stride-16 position 2i, so a
    /// stride-16 cell k sits at input pixel 16 (k + 1) where the stride-32 map of the same weights puts it, while a
    /// resize draws it at 16 (k + 0.5): half a cell up and left of its content (measured on the magnetic tile: a one-view
    /// map peaked a median 9 px up and left of small defects). Each cell is replaced by the mean of itself and its
    /// upper-left neighbours (edge cells replicated), which samples the map at 16 (k + 0.5): the stride-16 map then
    /// overlays the frame as the stride-32 map does, twice as finely.
    /// </summary>
    public Tensor PlaceLastStageMaps(Tensor maps)
    {
        if (OutputStride == 32) return maps.alias();
        using var scope = NewDisposeScope();
        long h = maps.shape[1], w = maps.shape[2];
        var padded = cat([maps.narrow(1, 0, 1), maps], 1);
        padded = cat([padded.narrow(2, 0, 1), padded], 2);
        var placed = (padded.narrow(1, 0, h).narrow(2, 0, w) + padded.narrow(1, 1, h).narrow(2, 0, w)
            + padded.narrow(1, 0, h).narrow(2, 1, w) + padded.narrow(1, 1, h).narrow(2, 1, w)) / 4;
        return placed.MoveToOuterDisposeScope();
    }

    /// <summary>Writes the trunk (stem and the four stages) into an ONNX graph after <paramref name="input"/>; returns the last features.</summary>
    internal string ExportFeatures(OnnxGraphWriter g, string input)
    {
        var x = g.Node("Relu", [TrunkExport.ConvBn(g, input, conv1, StemConv, bn1, "conv1", "bn1")]);
        x = g.Node("MaxPool", [x], attributes: [("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 })]);
        var stages = new[] { layer1, layer2, layer3, layer4 };
        for (int s = 0; s < stages.Length; s++)
        {
            int i = 0;
            foreach (var block in stages[s].children())
                x = ((IExportedBlock)block).Export(g, x, $"{Layers.FromStage(s + 1)}.{i++}");
        }
        return x;
    }

    /// <summary>A new network with these weights (copied, on their device) run at <paramref name="outputStride"/>; the caller owns it.</summary>
    public GapResNet AtOutputStride(int outputStride)
    {
        var copy = new GapResNet(Architecture, NumClasses, outputStride);
        copy.to(fc.weight!.device);
        copy.load_state_dict(state_dict());
        copy.train(training);
        return copy;
    }

    /// <summary>The trunk's modules (stem and stages), e.g. to freeze them while fine-tuning.</summary>
    public IEnumerable<Module> TrunkStages(int upToStage)
    {
        yield return conv1;
        yield return bn1;
        var stages = new[] { layer1, layer2, layer3, layer4 };
        for (int i = 0; i < Math.Min(upToStage, LastStage); i++) yield return stages[i];
    }

    /// <summary>
    /// One stage; <paramref name="dilated"/> = the stage's stride of 2 taken out: every 3x3 conv that followed the strided
    /// one works on a grid twice as fine, so it is dilated by 2 to see the same neighbours.
    /// </summary>
    private static Sequential Stage(Architecture architecture, ref long inChannels, long channels, int blocks, long stride, bool dilated = false)
    {
        var modules = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < blocks; i++)
        {
            long s = i == 0 ? stride : 1;
            long after = dilated ? 2 : 1;
            Module<Tensor, Tensor> block = architecture.Bottleneck
                ? new Bottleneck(inChannels, channels, s, dilation: i == 0 ? 1 : after)
                : new BasicBlock(inChannels, channels, s, (i == 0 ? 1 : after, after));
            modules.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture), block));
            inChannels = channels * (architecture.Bottleneck ? Bottleneck.Expansion : BasicBlock.Expansion);
        }
        return Sequential(modules);
    }
}

/// <summary>Logits [N, classes] and last conv features [N, C, h, w] of one forward pass.</summary>
public sealed record GapOutput(Tensor Logits, Tensor Features) : IDisposable
{
    public void Dispose()
    {
        Logits.Dispose();
        Features.Dispose();
    }
}
