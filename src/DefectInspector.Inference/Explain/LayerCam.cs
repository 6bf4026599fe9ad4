using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// LayerCAM (Jiang et al. 2021): each position weighted by its own positive gradient; works on any stage, and on several
/// at once, whose maps are fused as the paper fuses them (<see cref="LayerFusion"/>).
/// </summary>
public sealed class LayerCam : CamMethod
{
    public override string Name => "layercam";

    protected override bool NeedsGradients => true;

    protected override bool FusesLayers => true;

    protected override Tensor Weigh(CamContext context) => nn.functional.relu(context.Gradients);
}
