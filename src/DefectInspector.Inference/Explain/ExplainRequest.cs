namespace DefectInspector.Inference.Explain;

/// <summary>
/// Which layer to explain, for which class, by which score, in how many mirrored views. <see cref="TargetClass"/>
/// null means the default target: the most likely defect class of a model whose good class is <see cref="GoodClass"/>,
/// else the predicted class. A bundle's own request comes from <see cref="Model.InspectionModel.Request"/>.
/// </summary>
public sealed record ExplainRequest(string Layer = Model.Layers.Last, int? TargetClass = null, int GoodClass = -1,
    MapScore Score = MapScore.Logit, int Views = 1);
