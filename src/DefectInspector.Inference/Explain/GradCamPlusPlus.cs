using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// Grad-CAM++ (Chattopadhay et al. 2018, eq. 19) with the exponential-output simplification:
/// a = g^2 / (2 g^2 + (sum_ab A^k_ab) g^3 + 1e-6), a = 0 where g = 0; w_k = sum_ij ReLU(g) a.
/// </summary>
public sealed class GradCamPlusPlus : CamMethod
{
    public override string Name => "gradcam++";

    protected override bool NeedsGradients => true;

    protected override Tensor Weigh(CamContext context)
    {
        var g = context.Gradients;
        var g2 = g.pow(2);
        var activationSum = context.Activations.sum([2L, 3L], keepdim: true);
        var alpha = g2 / (2 * g2 + activationSum * g2 * g + 1e-6);
        alpha = where(g != 0, alpha, zeros_like(alpha));
        return (nn.functional.relu(g) * alpha).sum([2L, 3L], keepdim: true);
    }
}
