namespace DefectInspector.Core.Regions;

/// <summary>An axis-aligned box in frame pixels.</summary>
public readonly record struct Box(int X, int Y, int Width, int Height);

/// <summary>
/// A connected area of the heatmap above threshold, in frame pixels. Heat is in the map's score units.
/// <see cref="MassShare"/> is the fraction of the frame's positive heat that lies inside the region.
/// </summary>
public sealed record Region(Box Box, int Area, float PeakHeat, float MeanHeat, float MassShare)
{
    /// <summary>The ranking score: the region's peak heat.</summary>
    public float Score => PeakHeat;
}
