using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// LayerCAM's multi-layer fusion (Jiang et al. 2021, "Fusing class activation maps from multiple layers"): shallow
/// layers locate finely but their maps are weak beside the deep layer's, so each map M_l is divided by its own peak, the
/// shallower ones are lifted with the paper's scaling tanh(gamma M_l / max M_l), gamma = 2, every map is resized to the
/// input (bilinear, half-pixel centres, as overlays and regions resize) and the maps are fused by the element-wise
/// maximum. The paper's fused map lies in [0, 1] for every image; here it is multiplied by the deepest map's peak, so it
/// keeps that map's score units: a good part stays as cold as its deepest LayerCAM says, and absolute region thresholds
/// calibrate on good parts as they do for CAM. Its shape, and so the normalised map, is the paper's.
/// </summary>
internal static class LayerFusion
{
    public const double Gamma = 2;

    /// <summary>
    /// <paramref name="maps"/>: non-negative LayerCAM maps [N, h_l, w_l], shallow to deep (LayerCAM's positive gradients
    /// times post-ReLU activations are never negative). Returns the fused maps [N, <paramref name="height"/>, <paramref name="width"/>].
    /// </summary>
    public static Tensor Fuse(IReadOnlyList<Tensor> maps, long height, long width)
    {
        using var scope = NewDisposeScope();
        var deepPeak = Peak(maps[^1]);
        Tensor? fused = null;
        for (int l = 0; l < maps.Count; l++)
        {
            // A map that is zero everywhere stays zero rather than dividing by zero.
            var relative = maps[l] / Peak(maps[l]).clamp_min(float.Epsilon);
            var scaled = l == maps.Count - 1 ? relative : (Gamma * relative).tanh();
            var resized = nn.functional.interpolate(scaled.unsqueeze(1), [height, width], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
            fused = fused is null ? resized : maximum(fused, resized);
        }
        return (fused! * deepPeak).MoveToOuterDisposeScope();
    }

    /// <summary>[N, 1, 1]: each map's maximum.</summary>
    private static Tensor Peak(Tensor maps) => maps.amax([1L, 2L], keepdim: true);
}
