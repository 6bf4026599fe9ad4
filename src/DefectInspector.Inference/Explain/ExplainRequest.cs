namespace DefectInspector.Inference.Explain;

/// <summary>
/// Which layer to explain and for which class. <see cref="TargetClass"/> null means the default target:
/// the defect class of a two-class model whose good class is <see cref="GoodClass"/>, else the predicted class.
/// </summary>
public sealed record ExplainRequest(string Layer = Model.Layers.Last, int? TargetClass = null, int GoodClass = -1);
