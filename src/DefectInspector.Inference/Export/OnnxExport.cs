using System.Globalization;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights.Onnx;
using Google.Protobuf;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Export;

/// <summary>
/// Writes a served model as one ONNX graph: the explained prediction, not just the network. CAM is linear in the last
/// features, so the graph carries the mirrored views, the trunk at the bundle's output stride, the GAP head, and every
/// class's raw layer4 map for CAM and the closed-form Grad-CAM family, placed and mirrored back exactly as
/// <see cref="CamMethod"/> serves them. Preprocessing stays outside (the metadata says how); see docs/model-bundle.md.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;

    /// <summary>ONNX IR version 8 is the one that goes with opset 17.</summary>
    public const long IrVersion = 8;

    public const string InputName = "image";
    public const string LogitsName = "logits";

    public const string FormatKey = "format";
    public const string FormatValue = "defect-inspector.onnx";
    public const string MetadataKey = "defect_inspector";
    public const string SourceSha256Key = "source_sha256";
    public const string MethodsKey = "methods";
    public const string FeatureSizeKey = "feature_size";

    /// <summary>The methods the graph serves and the name of each one's map output.</summary>
    public static IReadOnlyDictionary<string, string> MapOutputs { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["cam"] = "cam",
        ["gradcam"] = "gradcam",
        ["gradcam++"] = "gradcam_pp",
        ["layercam"] = "layercam",
    };

    /// <summary>Writes <paramref name="model"/> as served (its stride, views and map score) to <paramref name="path"/>.</summary>
    public static void Write(InspectionModel model, string path) => WriteFile(path, ToBytes(model.Network, model.Metadata, model.Sha256));

    /// <summary>Writes an exported graph's bytes whole or not at all: a reader never sees half a model.</summary>
    public static void WriteFile(string path, byte[] onnx)
    {
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, onnx);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The ONNX model file's bytes for <paramref name="network"/> served as <paramref name="metadata"/> says.</summary>
    /// <param name="maps">False writes the logits alone: the bare forward pass, for measuring what the maps cost.</param>
    public static byte[] ToBytes(GapResNet network, BundleMetadata metadata, string sourceSha256, bool maps = true)
    {
        metadata.Validate(metadata.Name);
        if (network.OutputStride != metadata.OutputStride)
            throw new ArgumentException($"the network runs at output stride {network.OutputStride} but the metadata says {metadata.OutputStride}");
        var spec = metadata.Preprocessing;
        var (h, w) = FeatureSize(network, spec.Height, spec.Width);
        int views = metadata.Views, classes = network.NumClasses;
        long channels = network.ClassWeights.shape[1];

        var g = new OnnxGraphWriter();
        var image = g.Input(InputName, [null, 3, spec.Height, spec.Width], ["batch", "", "", ""],
            $"float32 [batch, 3, {spec.Height}, {spec.Width}]: RGB, resized and normalised as the metadata's preprocessing says");
        var x = ExpandViews(g, image, views);
        var features = network.ExportFeatures(g, x);

        var pooled = g.Node("ReduceMean", [features], attributes: [("axes", new long[] { 2, 3 }), ("keepdims", 0L)]);
        var viewLogits = g.Node("Gemm", [pooled, g.Weight("fc.weight", network.ClassWeights), g.Weight("fc.bias", network.ClassBias)], attributes: [("transB", 1L)]);
        var logits = views == 1 ? viewLogits : g.Node("ReduceMean",
            [g.Node("Reshape", [viewLogits, g.Int64s("views_by_class", views, -1, classes)])], attributes: [("axes", new long[] { 0 }), ("keepdims", 0L)]);
        g.Output(logits, LogitsName, [null, classes], ["batch", ""], "float32 [batch, classes]: the logits, averaged over the mirrored views");

        if (maps) AddMaps(g, network, metadata, features, h, w);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "defect-inspector",
            ProducerVersion = metadata.Provenance.ProductVersion,
            ModelVersion = 1,
            DocString = $"{metadata.Name} {metadata.Version}: {metadata.Architecture}, {views} view(s), output stride {network.OutputStride}, {metadata.Explainer.Score.ToString().ToLowerInvariant()} maps",
            Graph = g.Graph,
        };
        g.Graph.Name = metadata.Name;
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        AddMetadata(model, FormatKey, FormatValue);
        AddMetadata(model, MetadataKey, metadata.ToJson());
        AddMetadata(model, SourceSha256Key, sourceSha256);
        AddMetadata(model, MethodsKey, maps ? string.Join(",", MapOutputs.Keys) : "");
        AddMetadata(model, FeatureSizeKey, string.Create(CultureInfo.InvariantCulture, $"{h}x{w}"));
        return model.ToByteArray();
    }

    /// <summary>Every class's raw map for each served method, placed and merged over the views: the outputs after the logits.</summary>
    private static void AddMaps(OnnxGraphWriter g, GapResNet network, BundleMetadata metadata, string features, long h, long w)
    {
        int views = metadata.Views, classes = network.NumClasses;
        long channels = network.ClassWeights.shape[1];
        // score[c] = sum_k S[c, k] * pooled_k: the class's logit, less the good class's for the margin (as TargetScore).
        float[] score = ScoreWeights(network, metadata);
        float area = h * w;
        var flat = g.Node("Reshape", [features, g.Int64s("flat_features", 0, channels, h * w)]);
        var cam = g.Node("MatMul", [g.Floats("score_weights", score, classes, channels), flat]);
        var methodMaps = new Dictionary<string, string>
        {
            ["cam"] = cam,
            // At the last stage d(score)/dA = S / (h w) everywhere, so Grad-CAM's weights are S / (h w) ...
            ["gradcam"] = g.Node("MatMul", [g.Floats("gradcam_weights", score.Select(s => s / area).ToArray(), classes, channels), flat]),
            // ... LayerCAM's ReLU(S) / (h w) at every position ...
            ["layercam"] = g.Node("MatMul", [g.Floats("layercam_weights", score.Select(s => Math.Max(s, 0) / area).ToArray(), classes, channels), flat]),
            // ... and Grad-CAM++'s sum_ij ReLU(g) a = ReLU(S) g^2 / (2 g^2 + (sum_ab A_ab) g^3 + 1e-6) with g = S / (h w).
            ["gradcam++"] = GradCamPlusPlus(g, features, flat, score, classes, channels, area),
        };

        foreach (var (method, output) in MapOutputs)
        {
            var m = g.Node("Reshape", [methodMaps[method], g.Int64s($"{output}_shape", 0, classes, h, w)]);
            if (network.OutputStride == 16) m = PlaceStride16(g, m);
            m = MergeViews(g, m, views);
            g.Output(m, output, [null, classes, h, w], ["batch", "", "", ""],
                $"float32 [batch, classes, {h}, {w}]: each class's raw {method} map in score units ({metadata.Explainer.Score.ToString().ToLowerInvariant()}), before ReLU");
        }

    }

    private static void AddMetadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    /// <summary>The last features' height and width for this input size, from one pass of the network itself.</summary>
    private static (long H, long W) FeatureSize(GapResNet network, int height, int width)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        network.eval();
        var device = network.ClassWeights.device;
        var f = network.Features(zeros(1, 3, height, width, device: device), 0, GapResNet.LastStage);
        return (f.shape[2], f.shape[3]);
    }

    /// <summary>Per class, the coefficients of its score in the pooled features ([classes, C], row-major): see <see cref="TargetScore"/>.</summary>
    private static float[] ScoreWeights(GapResNet network, BundleMetadata metadata)
    {
        using var scope = NewDisposeScope();
        var w = network.ClassWeights.detach().cpu();
        int good = metadata.GoodClassIndex;
        if (metadata.Explainer.Score == MapScore.Margin && good >= 0)
        {
            var share = ones(network.NumClasses).index_fill_(0, tensor(new long[] { good }), 0);
            w = w - share.unsqueeze(1) * w[good].unsqueeze(0);
        }
        return w.contiguous().data<float>().ToArray();
    }

    private static string GradCamPlusPlus(OnnxGraphWriter g, string features, string flat, float[] score, int classes, long channels, float area)
    {
        float[] grad = score.Select(s => s / area).ToArray();
        var g2 = g.Floats("gradcampp_g2", grad.Select(v => v * v).ToArray(), classes, channels);
        var twiceG2 = g.Floats("gradcampp_2g2", grad.Select(v => 2 * v * v + 1e-6f).ToArray(), classes, channels);
        var g3 = g.Floats("gradcampp_g3", grad.Select(v => v * v * v).ToArray(), classes, channels);
        var reluScore = g.Floats("gradcampp_relu_score", score.Select(s => Math.Max(s, 0)).ToArray(), classes, channels);
        // [VN, 1, C] activation sums against [classes, C] constants broadcast to [VN, classes, C].
        var sums = g.Node("Unsqueeze", [g.Node("ReduceSum", [features, g.Int64s("spatial_axes", 2, 3)], attributes: [("keepdims", 0L)]), g.Int64s("axis_1", 1)]);
        var alpha = g.Node("Div", [g2, g.Node("Add", [twiceG2, g.Node("Mul", [sums, g3])])]);
        var weights = g.Node("Mul", [reluScore, alpha]);
        return g.Node("MatMul", [weights, flat]);
    }

    /// <summary>
    /// As <see cref="GapResNet.PlaceLastStageMaps"/>: each cell the mean of itself and its upper-left neighbours, edges
    /// replicated: an edge pad of one row and column at the top and left, then a 2x2 average with stride 1.
    /// </summary>
    private static string PlaceStride16(OnnxGraphWriter g, string maps)
    {
        var padded = g.Node("Pad", [maps, g.Int64s("place_pads", 0, 0, 1, 1, 0, 0, 0, 0)], attributes: [("mode", "edge")]);
        return g.Node("AveragePool", [padded], attributes: [("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 1, 1 })]);
    }

    // The axes each view flips, in MirrorViews' order: as is, left-right, top-bottom, both. Images [N, 3, H, W] and
    // maps [N, classes, h, w] flip the same axes.
    private static readonly long[][] Flips = [[], [3], [2], [2, 3]];

    private static string ExpandViews(OnnxGraphWriter g, string image, int views) =>
        views == 1 ? image : g.Node("Concat", Flips.Take(views).Select(f => Flip(g, image, f)).ToList(), attributes: [("axis", 0L)]);

    private static string MergeViews(OnnxGraphWriter g, string maps, int views)
    {
        if (views == 1) return maps;
        var parts = g.Nodes("Split", [maps], views, ("axis", 0L));
        var back = parts.Select((p, v) => Flip(g, p, Flips[v])).ToList();
        return g.Node("Mul", [g.Node("Sum", back), g.Floats($"one_over_{views}", [1f / views])]);
    }

    private static string Flip(OnnxGraphWriter g, string x, long[] axes)
    {
        if (axes.Length == 0) return x;
        string key = string.Join("_", axes);
        return g.Node("Slice",
        [
            x,
            g.Int64s($"flip_{key}_starts", axes.Select(_ => -1L).ToArray()),
            g.Int64s($"flip_{key}_ends", axes.Select(_ => long.MinValue).ToArray()),
            g.Int64s($"flip_{key}_axes", axes),
            g.Int64s($"flip_{key}_steps", axes.Select(_ => -1L).ToArray()),
        ]);
    }
}
