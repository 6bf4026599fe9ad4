namespace DefectInspector.Core.Explain;

/// <summary>
/// A class activation map for one image.
/// <see cref="Raw"/> is at feature resolution (input resolution for maps fused from several layers or multiplied by a
/// pixel saliency) in the method's score units, before ReLU, so a defect-free part
/// stays cold; <see cref="Normalised"/> is ReLU + min-max at feature resolution, bilinear to the input size,
/// min-max again: for display and comparison only.
/// </summary>
public sealed record Heatmap(string Method, string Layer, int TargetClass, FloatMap Raw, FloatMap Normalised);
