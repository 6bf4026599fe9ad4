using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>LayerCAM (Jiang et al. 2021): each position weighted by its own positive gradient; works on any stage.</summary>
public sealed class LayerCam : CamMethod
{
    public override string Name => "layercam";

    protected override bool NeedsGradients => true;

    protected override Tensor Weigh(CamContext context) => nn.functional.relu(context.Gradients);
}
