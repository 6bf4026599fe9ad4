using DefectInspector.Inference.Model;
using TorchSharp.Modules;

namespace DefectInspector.Inference.Export;

/// <summary>The ONNX form of the trunk's one repeated unit: a bias-free conv followed by its BatchNorm (eval statistics).</summary>
internal static class TrunkExport
{
    public static string ConvBn(OnnxGraphWriter g, string x, Conv2d conv, ConvSpec spec, BatchNorm2d bn, string name, string bnName)
    {
        var weight = conv.weight!;
        long kh = weight.shape[2], kw = weight.shape[3];
        var y = g.Node("Conv", [x, g.Weight($"{name}.weight", weight)], attributes:
        [
            ("kernel_shape", new[] { kh, kw }),
            ("strides", new[] { spec.Stride, spec.Stride }),
            ("pads", new[] { spec.Padding, spec.Padding, spec.Padding, spec.Padding }),
            ("dilations", new[] { spec.Dilation, spec.Dilation }),
        ]);
        return g.Node("BatchNormalization",
            [y, g.Weight($"{bnName}.weight", bn.weight!), g.Weight($"{bnName}.bias", bn.bias!),
             g.Weight($"{bnName}.running_mean", bn.running_mean!), g.Weight($"{bnName}.running_var", bn.running_var!)],
            // Imported trunks fold any other epsilon into running_var, so every GapResNet uses torchvision's.
            attributes: [("epsilon", (float)Weights.OnnxTrunkImporter.TorchBatchNormEpsilon)]);
    }
}
