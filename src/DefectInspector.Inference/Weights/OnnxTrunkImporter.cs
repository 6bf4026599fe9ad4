using System.Globalization;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights.Onnx;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Weights;

/// <summary>
/// Imports the ImageNet-trained ResNet-18 that ML.NET ships as a CNTK-exported ONNX file
/// (Microsoft.ML.DnnImageFeaturizer.ResNet18: ResNet18.onnx and ResNetPreprocess.onnx) as a torchvision-named
/// trunk for <see cref="GapResNet"/>.
/// </summary>
/// <remarks>
/// Nodes are mapped to torchvision names by walking the graph (stem Conv-BN-Relu-MaxPool, then per block the
/// Conv-BN-Relu-Conv-BN chain and the Add it feeds; a Conv-BN pair that reads the block input and feeds that Add
/// is the downsample), because CNTK's node and initializer names (Parameter91, Constant98, ...) carry no meaning.
/// Kernel sizes, strides and padding are checked against GapResNet's layers, and every tensor's shape against
/// the state dict of a GapResNet of the architecture found.
/// ML.NET's ResNet18.onnx is CNTK's ResNet-18, whose layer4 has three BasicBlocks (stages [2,2,2,3]), so it imports
/// as <see cref="Architecture.ResNet18Cntk"/>, not <see cref="Architecture.ResNet18"/>; load it with
/// <see cref="ImportedTrunk.CreateModel"/> or into <c>new GapResNet(trunk.Architecture, classes)</c>.
/// </remarks>
public static class OnnxTrunkImporter
{
    public const string TrunkRole = "ImageNet ResNet-18 ONNX model";

    /// <summary>The preprocessing graph's file name next to the trunk (as the build copies both to models/imagenet/).</summary>
    public const string PreprocessFileName = "ResNetPreprocess.onnx";

    /// <summary>Where the build puts the ImageNet trunk beside the application (see the Inference csproj).</summary>
    public static string BundledTrunkPath => Path.Combine(AppContext.BaseDirectory, "models", "imagenet", "ResNet18.onnx");

    /// <summary>torchvision's (and TorchSharp's) BatchNorm2d epsilon.</summary>
    public const double TorchBatchNormEpsilon = 1e-5;

    /// <summary>Imports the trunk, reading the preprocessing from <see cref="PreprocessFileName"/> in the same folder.</summary>
    public static ImportedTrunk Import(string onnxPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(onnxPath)) ?? ".";
        return Import(onnxPath, Path.Combine(folder, PreprocessFileName));
    }

    /// <summary>Imports the trunk from <paramref name="onnxPath"/> and its preprocessing from <paramref name="preprocessOnnxPath"/>.</summary>
    /// <exception cref="FileNotFoundException">Either file is missing.</exception>
    /// <exception cref="InvalidDataException">Either file is not ONNX or not the expected graph; the message names the file.</exception>
    public static ImportedTrunk Import(string onnxPath, string preprocessOnnxPath)
    {
        var graph = OnnxGraph.Load(onnxPath, TrunkRole);
        var walk = new TrunkWalk(graph);
        try
        {
            walk.Run();
            var preprocessing = CntkPreprocessing.Read(preprocessOnnxPath, walk.InputWidth, walk.InputHeight);
            var producer = $"{graph.Model.ProducerName} {graph.Model.ProducerVersion}".Trim();
            var opsets = string.Join(", ", graph.Model.OpsetImport.Select(o =>
                $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version.ToString(CultureInfo.InvariantCulture)}"));
            var provenance = string.Create(CultureInfo.InvariantCulture,
                $"{graph.Path} (sha256 {graph.Sha256}, {graph.Length} bytes, produced by {producer}, opset {opsets}): " +
                $"ImageNet-trained {walk.Architecture.Name} trunk (BasicBlocks per stage {OnnxGraph.Join(walk.Architecture.Blocks.Select(b => (long)b))}), {walk.StateDict.Count} tensors, BatchNorm epsilon {walk.Epsilon:R}. " +
                $"Preprocessing from {preprocessing.Path} (sha256 {preprocessing.Sha256}): {preprocessing.Preprocessing.ChannelOrder}, " +
                $"0-255 pixels minus the mean image's per-channel average " +
                $"[{string.Join(", ", preprocessing.Preprocessing.Mean.Select(m => (m * 255).ToString("F3", CultureInfo.InvariantCulture)))}] " +
                $"(the per-pixel mean image deviates from it by up to {preprocessing.MeanImageMaxDeviation:F2} grey levels).");
            return new ImportedTrunk(
                walk.Architecture, walk.StateDict, preprocessing.Preprocessing, walk.InputName, walk.FeaturesName,
                walk.Epsilon, preprocessing.MeanImageMaxDeviation, graph.Path, graph.Sha256, preprocessing.Path, preprocessing.Sha256, provenance);
        }
        catch
        {
            foreach (var tensor in walk.StateDict.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>One pass over the trunk graph, from the data input to the global-average-pooled features.</summary>
    private sealed class TrunkWalk(OnnxGraph graph)
    {
        private const int MaxBlocks = 64;
        private long height;
        private long width;

        public Dictionary<string, Tensor> StateDict { get; } = new(StringComparer.Ordinal);

        public Architecture Architecture { get; private set; } = Architecture.ResNet18;

        public string InputName { get; private set; } = "";

        public string FeaturesName { get; private set; } = "";

        public long InputHeight { get; private set; }

        public long InputWidth { get; private set; }

        public float Epsilon { get; private set; } = float.NaN;

        public void Run()
        {
            var input = graph.DataInput();
            long[] shape = graph.StaticShape(input);
            if (shape.Length != 4 || shape[0] != 1 || shape[1] != 3)
                throw graph.Unexpected($"input '{input.Name}' of shape [1,3,H,W]", OnnxGraph.Join(shape));
            InputName = input.Name;
            (InputHeight, InputWidth) = (height, width) = (shape[2], shape[3]);

            var conv1 = graph.SingleConsumer(input.Name, "Conv", "the stem convolution conv1");
            Conv(conv1, "conv1", kernel: 7, stride: 2, outChannels: 64, inChannels: 3);
            var bn1 = graph.SingleConsumer(conv1.Output[0], "BatchNormalization", "bn1");
            BatchNorm(bn1, "bn1", 64);
            var relu = graph.SingleConsumer(bn1.Output[0], "Relu", "the stem ReLU");
            var maxpool = graph.SingleConsumer(relu.Output[0], "MaxPool", "the stem max-pool");
            if (!OnnxGraph.Ints(maxpool, "kernel_shape", []).SequenceEqual([3L, 3L]) || maxpool.Output.Count != 1
                || OnnxGraph.Int(maxpool, "ceil_mode", 0) != 0 || OnnxGraph.Ints(maxpool, "dilations", [1, 1]).Any(d => d != 1))
                throw graph.Unexpected("a 3x3 max-pool without ceil mode or dilation (torchvision's stem)", OnnxGraph.Describe(maxpool));
            Window(maxpool, "maxpool", 3, 2);

            // Blocks are counted, not assumed: CNTK's "ResNet18" (create_imagenet_model_basic with
            // num_stack_layers [2,1,1,2]) has three BasicBlocks in layer4 where torchvision has two.
            // A block with a projection shortcut opens the next stage, as in GapResNet (Projection.IfNeeded).
            string x = maxpool.Output[0];
            long channels = 64;
            var blocks = new List<int>();
            while (!(graph.Consumers(x) is [{ OpType: "AveragePool" or "GlobalAveragePool" }]))
            {
                if (blocks.Sum() >= MaxBlocks)
                    throw graph.Unexpected($"at most {MaxBlocks} residual blocks before the average pool", "more");
                var (main, mainBn, projection, projectionBn) = BlockEntry(x, $"the block after {(blocks.Count == 0 ? "the stem" : $"layer{blocks.Count}.{blocks[^1] - 1}")}");
                bool newStage = blocks.Count == 0 || projection is not null;
                if (newStage && blocks.Count == GapResNet.LastStage)
                    throw graph.Unexpected($"{GapResNet.LastStage} stages of BasicBlocks", $"a fifth stage starting at {OnnxGraph.Describe(main)}");
                if (newStage) blocks.Add(0);
                int stage = blocks.Count;
                long stride = newStage && stage > 1 ? 2 : 1;
                long stageChannels = 64L << (stage - 1);
                string prefix = string.Create(CultureInfo.InvariantCulture, $"layer{stage}.{blocks[^1]}");
                x = BasicBlock(x, prefix, main, mainBn, projection, projectionBn, stride, channels, stageChannels);
                channels = stageChannels;
                blocks[^1]++;
            }
            if (blocks.Count != GapResNet.LastStage)
                throw graph.Unexpected($"{GapResNet.LastStage} stages of BasicBlocks", $"{blocks.Count}");
            Architecture = Architecture.All.FirstOrDefault(a => !a.Bottleneck && a.Blocks.SequenceEqual(blocks))
                ?? throw graph.Unexpected(
                    $"the BasicBlock stage sizes of {string.Join(" or ", Architecture.All.Where(a => !a.Bottleneck).Select(a => $"{a.Name} {OnnxGraph.Join(a.Blocks.Select(b => (long)b))}"))}",
                    OnnxGraph.Join(blocks.Select(b => (long)b)));

            var pool = graph.Consumers(x)[0];
            bool global = pool.OpType == "GlobalAveragePool"
                || OnnxGraph.Ints(pool, "kernel_shape", []).SequenceEqual([height, width]) && OnnxGraph.Ints(pool, "pads", [0, 0, 0, 0]).All(p => p == 0);
            if (!global || pool.Output.Count != 1 || !graph.IsGraphOutput(pool.Output[0]))
                throw graph.Unexpected(
                    $"the last block's output averaged over its whole {height}x{width} map into the graph output (the GAP features)", OnnxGraph.Describe(pool));
            FeaturesName = pool.Output[0];

            var expected = ExpectedShapes(Architecture);
            var missing = expected.Keys.Where(k => !StateDict.ContainsKey(k)).ToList();
            var extra = StateDict.Keys.Where(k => !expected.ContainsKey(k)).ToList();
            var misshapen = expected.Keys.Where(k => StateDict.TryGetValue(k, out var t) && !t.shape.SequenceEqual(expected[k])).ToList();
            if (missing.Count + extra.Count + misshapen.Count > 0)
                throw graph.Unexpected(
                    $"exactly GapResNet({Architecture.Name})'s trunk tensors",
                    $"missing [{string.Join(", ", missing)}], extra [{string.Join(", ", extra)}], misshapen [{string.Join(", ", misshapen)}]");
        }

        /// <summary>
        /// The convolutions reading a block's input: one Conv-BN-Relu chain (conv1, bn1) and, if the block projects
        /// its shortcut, one Conv-BN pair feeding the block's Add directly (downsample.0, downsample.1).
        /// </summary>
        private (NodeProto Conv1, NodeProto Bn1, NodeProto? Downsample, NodeProto? DownsampleBn) BlockEntry(string x, string where)
        {
            NodeProto? conv1 = null, bn1 = null, downsampleConv = null, downsampleBn = null;
            foreach (var conv in graph.Consumers(x).Where(n => n.OpType == "Conv"))
            {
                var bn = graph.SingleConsumer(conv.Output[0], "BatchNormalization", $"the BatchNorm after a convolution that reads the input of {where}");
                var next = graph.Consumers(bn.Output[0]);
                if (next is [{ OpType: "Relu" }] && conv1 is null) (conv1, bn1) = (conv, bn);
                else if (next is [{ OpType: "Add" }] && downsampleConv is null) (downsampleConv, downsampleBn) = (conv, bn);
                else
                    throw graph.Unexpected(
                        $"the input of {where} read by one Conv-BN-Relu chain (conv1) and at most one Conv-BN feeding the block's Add (downsample)",
                        $"{OnnxGraph.Describe(conv)} followed by {string.Join(", ", next.Select(OnnxGraph.Describe))}");
            }
            if (conv1 is null || bn1 is null || graph.Consumers(x).Any(n => n.OpType is not ("Conv" or "Add")))
                throw graph.Unexpected($"'{x}' (input of {where}) read by a residual block (Conv-BN-Relu chain, shortcut Add) or the final average pool",
                    string.Join(", ", graph.Consumers(x).Select(OnnxGraph.Describe)));
            return (conv1, bn1, downsampleConv, downsampleBn);
        }

        /// <summary>torchvision's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + identity-or-downsample(x)).</summary>
        private string BasicBlock(
            string x, string prefix, NodeProto conv1, NodeProto bn1, NodeProto? downsampleConv, NodeProto? downsampleBn,
            long stride, long inChannels, long channels)
        {
            // The rule GapResNet's Projection.IfNeeded applies.
            bool projection = stride != 1 || inChannels != channels;
            if ((downsampleConv is not null) != projection)
                throw graph.Unexpected(
                    $"{prefix} {(projection ? "with" : "without")} a 1x1 downsample projection (as GapResNet builds it)",
                    downsampleConv is null ? "an identity shortcut" : OnnxGraph.Describe(downsampleConv));

            var (inHeight, inWidth) = (height, width);
            Conv(conv1, $"{prefix}.conv1", kernel: 3, stride: stride, outChannels: channels, inChannels: inChannels);
            BatchNorm(bn1, $"{prefix}.bn1", channels);
            var relu1 = graph.SingleConsumer(bn1.Output[0], "Relu", $"{prefix}'s first ReLU");
            var conv2 = graph.SingleConsumer(relu1.Output[0], "Conv", $"{prefix}.conv2");
            Conv(conv2, $"{prefix}.conv2", kernel: 3, stride: 1, outChannels: channels, inChannels: channels);
            var bn2 = graph.SingleConsumer(conv2.Output[0], "BatchNormalization", $"{prefix}.bn2");
            BatchNorm(bn2, $"{prefix}.bn2", channels);
            var add = graph.SingleConsumer(bn2.Output[0], "Add", $"{prefix}'s residual addition");

            string shortcut = x;
            if (downsampleConv is not null && downsampleBn is not null)
            {
                var (outHeight, outWidth) = (height, width);
                (height, width) = (inHeight, inWidth);
                Conv(downsampleConv, $"{prefix}.downsample.0", kernel: 1, stride: stride, outChannels: channels, inChannels: inChannels);
                if ((height, width) != (outHeight, outWidth))
                    throw graph.Unexpected($"{prefix}'s downsample output to match its main branch ({outHeight}x{outWidth})", $"{height}x{width}");
                BatchNorm(downsampleBn, $"{prefix}.downsample.1", channels);
                shortcut = downsampleBn.Output[0];
            }
            if (add.Input.Count != 2 || !add.Input.Contains(bn2.Output[0]) || !add.Input.Contains(shortcut) || add.Output.Count != 1)
                throw graph.Unexpected($"{prefix}'s Add to sum bn2's output and the shortcut '{shortcut}'", $"{OnnxGraph.Describe(add)} of {string.Join(", ", add.Input)}");
            var relu = graph.SingleConsumer(add.Output[0], "Relu", $"{prefix}'s output ReLU");
            return relu.Output[0];
        }

        private void Conv(NodeProto conv, string name, long kernel, long stride, long outChannels, long inChannels)
        {
            if (conv.Input.Count != 2 || conv.Output.Count != 1)
                throw graph.Unexpected($"{name} as a Conv with a weight and no bias (torchvision convs feeding BatchNorm have none)", OnnxGraph.Describe(conv));
            if (OnnxGraph.Int(conv, "group", 1) != 1 || OnnxGraph.Ints(conv, "dilations", [1, 1]).Any(d => d != 1))
                throw graph.Unexpected($"{name} without groups or dilation", OnnxGraph.Describe(conv));
            long[] kernelShape = OnnxGraph.Ints(conv, "kernel_shape", [kernel, kernel]);
            if (!kernelShape.SequenceEqual([kernel, kernel]))
                throw graph.Unexpected($"{name} with a {kernel}x{kernel} kernel", $"{OnnxGraph.Join(kernelShape)} in {OnnxGraph.Describe(conv)}");
            Window(conv, name, kernel, stride);
            Store($"{name}.weight", conv.Input[1], [outChannels, inChannels, kernel, kernel]);
        }

        /// <summary>
        /// Checks stride and padding of a conv or pool against torchvision's (stride s, symmetric padding p = (k-1)/2)
        /// and advances the tracked spatial size.
        /// </summary>
        /// <remarks>
        /// CNTK pads the stride-2 layers asymmetrically: begin p, end p-1 (conv1 [3,3,2,2], 3x3/2 convs and the
        /// max-pool [1,1,0,0]). Both conventions place window j at [-p + s*j, -p + s*j + k - 1], so they can only differ
        /// in how many windows fit. For an even input n with k = 2p+1 and s = 2, torchvision's last window ends at
        /// n - 2 + p, one short of its last padded row, so p-1 end rows suffice and both produce n/2 identical windows;
        /// the padded positions read are zeros (conv) or excluded (max-pool) in both. For odd n torchvision needs the
        /// p-th end row and gets one more output, so the window counts are compared here for the declared input size
        /// (ResNet-18 at 224x224 sees 224, 112, 56, 28, 14: all even).
        /// </remarks>
        private void Window(NodeProto node, string name, long kernel, long stride)
        {
            long[] strides = OnnxGraph.Ints(node, "strides", [1, 1]);
            if (!strides.SequenceEqual([stride, stride]))
                throw graph.Unexpected($"{name} with stride {stride} (as in GapResNet)", $"strides {OnnxGraph.Join(strides)} in {OnnxGraph.Describe(node)}");
            string autoPad = OnnxGraph.Text(node, "auto_pad", "NOTSET");
            if (autoPad != "NOTSET")
                throw graph.Unexpected($"{name} with explicit pads", $"auto_pad {autoPad} in {OnnxGraph.Describe(node)}");
            long p = (kernel - 1) / 2;
            long[] pads = OnnxGraph.Ints(node, "pads", [0, 0, 0, 0]);
            if (pads.Length != 4 || pads[0] != p || pads[1] != p || pads[2] < Math.Max(p - 1, 0) || pads[2] > p || pads[3] < Math.Max(p - 1, 0) || pads[3] > p)
                throw graph.Unexpected($"{name} padded by {p} at the top/left and {p} or {Math.Max(p - 1, 0)} at the bottom/right",
                    $"pads {OnnxGraph.Join(pads)} in {OnnxGraph.Describe(node)}");

            long fileH = (height + pads[0] + pads[2] - kernel) / stride + 1, torchH = (height + 2 * p - kernel) / stride + 1;
            long fileW = (width + pads[1] + pads[3] - kernel) / stride + 1, torchW = (width + 2 * p - kernel) / stride + 1;
            if (fileH != torchH || fileW != torchW)
                throw graph.Unexpected(
                    $"{name}'s padding to give torchvision's output size {torchH}x{torchW} on its {height}x{width} input",
                    $"{fileH}x{fileW} from pads {OnnxGraph.Join(pads)}; the asymmetric padding matches only for even sizes");
            (height, width) = (fileH, fileW);
        }

        /// <remarks>
        /// ONNX's BatchNormalization computes scale * (x - mean) / sqrt(var + epsilon) + B with the file's epsilon,
        /// torchvision's with 1e-5; adding (epsilon - 1e-5) to running_var keeps sqrt(var + eps) identical.
        /// CNTK 2.6 writes 1e-5 as a float (9.99999975e-06), which is what TorchSharp uses too, so for this file the fold
        /// is a no-op; it only applies when the float epsilon differs.
        /// </remarks>
        private void BatchNorm(NodeProto bn, string name, long channels)
        {
            if (bn.Input.Count != 5 || bn.Output.Count != 1 || OnnxGraph.Int(bn, "spatial", 1) != 1)
                throw graph.Unexpected($"{name} as an inference BatchNormalization(X, scale, B, mean, var) over channels", OnnxGraph.Describe(bn));
            float epsilon = OnnxGraph.Float(bn, "epsilon", (float)TorchBatchNormEpsilon);
            if (!float.IsNaN(Epsilon) && epsilon != Epsilon)
                throw graph.Unexpected($"one BatchNorm epsilon throughout ({Epsilon:R})", $"{epsilon:R} in {OnnxGraph.Describe(bn)}");
            Epsilon = epsilon;

            Store($"{name}.weight", bn.Input[1], [channels]);
            Store($"{name}.bias", bn.Input[2], [channels]);
            Store($"{name}.running_mean", bn.Input[3], [channels]);
            var variance = Store($"{name}.running_var", bn.Input[4], [channels]);
            if (epsilon != (float)TorchBatchNormEpsilon)
            {
                variance.add_(epsilon - TorchBatchNormEpsilon);
                if (variance.min().item<float>() + TorchBatchNormEpsilon <= 0)
                    throw graph.Unexpected($"{name}'s running_var + epsilon to stay positive", "a non-positive variance");
            }
        }

        private Tensor Store(string key, string initializer, long[] expected)
        {
            float[] values = graph.ReadFloats(initializer, out long[] dims);
            if (!dims.SequenceEqual(expected))
                throw graph.Unexpected($"{key} of shape {OnnxGraph.Join(expected)}", $"{OnnxGraph.Join(dims)} in initializer '{initializer}'");
            if (StateDict.ContainsKey(key))
                throw graph.Unexpected($"one source for {key}", $"a second one, initializer '{initializer}'");
            var stored = tensor(values, dims).DetachFromDisposeScope();
            StateDict[key] = stored;
            return stored;
        }
    }

    /// <summary>Shapes of GapResNet's trunk tensors, read off a model built with the same code the import will load into.</summary>
    internal static Dictionary<string, long[]> ExpectedShapes(Architecture architecture)
    {
        using var model = new GapResNet(architecture, 2);
        return ImportedTrunk.TrunkEntries(model).ToDictionary(e => e.Key, e => e.Value.shape, StringComparer.Ordinal);
    }
}
