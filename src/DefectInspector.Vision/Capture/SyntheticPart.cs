using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>One part from <see cref="SyntheticParts"/>: its image and, when it has one, where its defect is.</summary>
public sealed class SyntheticPart(Mat image, Mat defectMask, DefectKind? defect, Rect? defectBounds, Rect partBounds) : IDisposable
{
    /// <summary>The frame: BGR, 8-bit, 3 channels.</summary>
    public Mat Image { get; } = image;

    /// <summary>8-bit, 1 channel, the frame's size: 255 on the defect's pixels, 0 elsewhere (all 0 on a good part).</summary>
    public Mat DefectMask { get; } = defectMask;

    /// <summary>The kind of defect drawn, null for a good part.</summary>
    public DefectKind? Defect { get; } = defect;

    /// <summary>The bounding box of <see cref="DefectMask"/>, null for a good part.</summary>
    public Rect? DefectBounds { get; } = defectBounds;

    /// <summary>The bounding box of the part (the lit region) in the frame.</summary>
    public Rect PartBounds { get; } = partBounds;

    public void Dispose()
    {
        Image.Dispose();
        DefectMask.Dispose();
    }
}
