using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// Guided Grad-CAM (Selvaraju et al. 2017): the Grad-CAM map, resized to the input (bilinear, half-pixel centres), times
/// the guided-backpropagation saliency of the same score, pixel by pixel: Grad-CAM says which part of the frame, guided
/// backpropagation which pixels in it. The raw map is at input resolution and keeps Grad-CAM's sign (the saliency is
/// non-negative), so ReLU + min-max gives the published map and absolute region thresholds calibrate as for Grad-CAM.
/// With mirrored views each factor is the mean of its views, mirrored back.
/// </summary>
public sealed class GuidedGradCam(bool closedFormGradients = true) : IExplainer
{
    private readonly GradCam gradCam = new() { UseClosedFormGradients = closedFormGradients };

    public string Name => "guided-gradcam";

    public void CheckLayer(string layer) => gradCam.CheckLayer(layer);

    public Explanation Explain(GapResNet model, Tensor input, ExplainRequest request, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        var cam = gradCam.Maps(model, input, request, cancellation);
        cancellation.ThrowIfCancellationRequested();
        var saliency = MirrorViews.MergeMaps(GuidedBackprop.Saliency(model, cam.Views, cam.Score), request.Views);
        using (no_grad())
        {
            var coarse = nn.functional.interpolate(cam.Raw.unsqueeze(1), [input.shape[2], input.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
            return cam.ToExplanation(Name, request.Layer, coarse * saliency, input);
        }
    }
}
