namespace DefectInspector.Inference.Explain;

/// <summary>
/// Which layer to explain, for which class, by which score, in how many mirrored views. <see cref="TargetClass"/>
/// null means the default target: the most likely defect class of a model whose good class is <see cref="GoodClass"/>,
/// else the predicted class. A model's own request comes from <see cref="For"/>.
/// </summary>
public sealed record ExplainRequest(string Layer = Model.Layers.Last, int? TargetClass = null, int GoodClass = -1,
    MapScore Score = MapScore.Logit, int Views = 1)
{
    /// <summary>What to explain as <paramref name="metadata"/> serves its model: <paramref name="layer"/> (default the calibrated one) and class (default a defect class).</summary>
    public static ExplainRequest For(Bundle.BundleMetadata metadata, string? layer = null, int? targetClass = null) =>
        new(layer ?? metadata.Explainer.Layer, targetClass, metadata.GoodClassIndex, metadata.Explainer.Score, metadata.Views);
}
