using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// What turns the model's score into a map: a CAM method (<see cref="CamMethod"/>) or a composition of one with
/// another saliency (<see cref="GuidedGradCam"/>).
/// </summary>
public interface IExplainer
{
    /// <summary>The name used on the command line and in messages, e.g. "gradcam++".</summary>
    string Name { get; }

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="layer"/> when this explainer cannot explain it.</summary>
    void CheckLayer(string layer);

    /// <summary>Explains a preprocessed batch [N, 3, H, W]; see <see cref="CamMethod.Explain"/> for targets and views.</summary>
    Explanation Explain(GapResNet model, Tensor input, ExplainRequest request, CancellationToken cancellation = default);
}
