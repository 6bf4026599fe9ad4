using System.Globalization;
using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// A camera read through OpenCV's VideoCapture: a V4L2 device or a GStreamer pipeline. They differ only in how the
/// capture is opened and in what is worth checking when it will not open.
/// </summary>
internal sealed class LiveCaptureSource(string description, Func<VideoCapture> openCapture, string openHint) : IFrameSource
{
    private VideoCapture? capture;

    // Not reset by a reopen, so that frame references stay unique for the life of the daemon.
    private long frameIndex;

    public string Description => description;

    public bool IsLive => true;

    public void Open()
    {
        Release();
        VideoCapture capture;
        try
        {
            capture = openCapture();
        }
        catch (OpenCVException e)
        {
            throw new FrameSourceException($"camera {description}: cannot be opened ({e.Message}); {openHint}", e);
        }

        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new FrameSourceException($"camera {description}: cannot be opened; {openHint}");
        }

        this.capture = capture;
    }

    public SourceFrame? Read(CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var capture = this.capture ?? throw new FrameSourceException($"camera {description}: not open (it failed before or was never opened); open it again");
        var image = BgrFrames.ReadNext(capture, $"camera {description}");
        if (image is null)
        {
            // A live source that stops delivering has dropped or lost its stream; only a new capture recovers it.
            Release();
            throw new FrameSourceException($"camera {description}: stream ended or read failed; reopen the source");
        }

        var capturedAt = DateTimeOffset.UtcNow;
        return new SourceFrame(image, (frameIndex++).ToString(CultureInfo.InvariantCulture), capturedAt);
    }

    public void Complete(SourceFrame frame)
    {
    }

    public void Dispose() => Release();

    private void Release()
    {
        capture?.Dispose();
        capture = null;
    }
}
