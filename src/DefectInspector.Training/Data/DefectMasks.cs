using OpenCvSharp;

namespace DefectInspector.Training.Data;

/// <summary>
/// Reads a defect mask the one way training and evaluation share: grayscale, above 127 = defect. Were the two to
/// read masks differently, a model would be scored against other defects than it learnt.
/// </summary>
internal static class DefectMasks
{
    /// <summary>The mask binarised to 0 / 255 (the caller owns it); its size must be <paramref name="frame"/>'s.</summary>
    public static Mat Read(string maskPath, Size frame)
    {
        using var mask = Cv2.ImRead(maskPath, ImreadModes.Grayscale);
        // The dataset reader checked both already; a file changed since then must not count on a wrong mask.
        if (mask.Empty())
            throw new DataProblemException($"mask '{maskPath}' cannot be read: expected an 8-bit image, 255 = defect");
        if (mask.Size() != frame)
            throw new DataProblemException($"mask '{maskPath}' is {mask.Width}x{mask.Height} but its image is {frame.Width}x{frame.Height}; expected the same size");
        return mask.Threshold(127, 255, ThresholdTypes.Binary);
    }
}
