using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// A frame as its source delivers it: a BGR image, a reference to it in the source (the file name for folders,
/// the frame index for streams) and the time it was captured. The pipeline owns and disposes it.
/// </summary>
public sealed class SourceFrame(Mat image, string frameRef, DateTimeOffset capturedAt) : IDisposable
{
    public Mat Image { get; } = image;

    public string FrameRef { get; } = frameRef;

    public DateTimeOffset CapturedAt { get; } = capturedAt;

    public void Dispose() => Image.Dispose();
}
