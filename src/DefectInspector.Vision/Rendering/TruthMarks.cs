namespace DefectInspector.Vision.Rendering;

/// <summary>
/// What an evaluation knows beyond the model's output, drawn on its overlays so a reviewer sees at once whether the
/// map and the boxes found the defect: <see cref="DefectMask"/> (frame size, row-major, true = defect) is outlined,
/// <see cref="Peak"/> (the map's hottest frame pixel) is marked with a cross.
/// </summary>
public sealed record TruthMarks(bool[]? DefectMask, (int X, int Y)? Peak);
