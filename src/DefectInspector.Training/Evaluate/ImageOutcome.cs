using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;

namespace DefectInspector.Training.Evaluate;

/// <summary>
/// What the model said about one evaluated image, with everything localisation metrics need:
/// <see cref="FrameHeat"/> is the raw map resized to the frame (score units), <see cref="Mask"/> the defect pixels
/// (frame size, row-major, true = defect) when the dataset has a mask.
/// </summary>
public sealed record ImageOutcome(
    string Path,
    string Kind,
    bool IsDefect,
    float DefectScore,
    string PredictedClass,
    IReadOnlyList<Region> Regions,
    FloatMap? FrameHeat,
    bool[]? Mask);
