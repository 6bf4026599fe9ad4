using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>Grad-CAM (Selvaraju et al. 2017): alpha_k = mean_ij dY_c/dA^k_ij.</summary>
public sealed class GradCam : CamMethod
{
    public override string Name => "gradcam";

    protected override bool NeedsGradients => true;

    protected override Tensor Weigh(CamContext context) => context.Gradients.mean([2L, 3L], keepdim: true);
}
