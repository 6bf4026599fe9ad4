using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// CAM (Zhou et al. 2016): M = sum_k w_k^c A^k with the linear head's weights (w^c - w^good for the margin score);
/// last conv layer only.
/// </summary>
public sealed class Cam : CamMethod
{
    public override string Name => "cam";

    protected override Tensor Weigh(CamContext context)
    {
        if (context.Stage != GapResNet.LastStage)
            throw new ArgumentException($"layer '{Layers.FromStage(context.Stage)}': CAM uses the head's weights, so it explains only {Layers.Last}; use gradcam or layercam for earlier layers");
        return context.Score.Weights.unsqueeze(-1).unsqueeze(-1);
    }
}
