using DefectInspector.Inference.Explain;

namespace DefectInspector.Inference.Bundle;

/// <summary>
/// Serve a bundle otherwise than it was calibrated, to compare (evaluate, explain, bench): another output stride, number
/// of mirrored views or map score. The thresholds stay those of the calibration, so only unit-free numbers compare.
/// </summary>
public sealed record ServingOverrides(int? OutputStride = null, int? Views = null, MapScore? Score = null)
{
    public BundleMetadata ApplyTo(BundleMetadata metadata) => metadata with
    {
        OutputStride = OutputStride ?? metadata.OutputStride,
        Views = Views ?? metadata.Views,
        Explainer = metadata.Explainer with { Score = Score ?? metadata.Explainer.Score },
    };
}
