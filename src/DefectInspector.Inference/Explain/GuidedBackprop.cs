using DefectInspector.Inference.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// Guided backpropagation (Springenberg et al. 2015): the gradient of the score with respect to the input pixels, with
/// every ReLU of the network passing back only positive gradients, and only where its input was positive. Fine, pixel
/// level, but not class-discriminative on its own; <see cref="GuidedGradCam"/> gives it Grad-CAM's localisation.
/// </summary>
internal static class GuidedBackprop
{
    /// <summary>
    /// [rows, H, W] for <paramref name="views"/> [rows, 3, H, W] and the <paramref name="score"/> of those rows: per pixel
    /// the largest absolute guided gradient over the colour channels (Simonyan et al.'s reduction of an RGB gradient to
    /// one saliency value).
    /// </summary>
    public static Tensor Saliency(GapResNet model, Tensor views, TargetScore score)
    {
        // Every ReLU module's output is replaced by the guided ReLU's, same values, guided backward, while the hooks stand.
        var hooks = model.modules().OfType<ReLU>()
            .Select(relu => relu.register_forward_hook((_, input, _) => GuidedRelu.apply(input)))
            .ToList();
        try
        {
            var pixels = views.detach().requires_grad_(true);
            Tensor gradient;
            using (enable_grad())
                gradient = torch.autograd.grad([score.Of(model.call(pixels)).sum()], [pixels])[0];
            return gradient.abs().amax([1L]);
        }
        finally
        {
            foreach (var hook in hooks) hook.remove();
        }
    }

    /// <summary>ReLU forward; backward passes relu(gradient) where the input was positive (plain ReLU passes the gradient as it is).</summary>
    private sealed class GuidedRelu : SingleTensorFunction<GuidedRelu>
    {
        public override string Name => nameof(GuidedRelu);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var input = (Tensor)vars[0];
            ctx.save_for_backward([input]);
            return input.relu();
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
        {
            var input = ctx.get_saved_variables()[0];
            return [grad_output.clamp_min(0) * input.gt(0)];
        }
    }
}
