namespace DefectInspector.Publish.Contracts;

public sealed record BoxMessage(int X, int Y, int Width, int Height);

/// <summary>A region in image pixels; heat in the explainer's raw score units.</summary>
public sealed record RegionMessage(BoxMessage Box, double Score, int Area, double PeakHeat, double MeanHeat, double MassShare);
