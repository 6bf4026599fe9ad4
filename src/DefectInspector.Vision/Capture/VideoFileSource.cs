using System.Globalization;
using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// A recorded video played as if a camera delivered it: at its own frame rate when real time, looping when asked,
/// so that a demo or a soak test runs for as long as the daemon does.
/// </summary>
internal sealed class VideoFileSource(string path, SourceSettings settings) : IFrameSource
{
    // Some containers (raw MJPEG, some AVI writers) leave the frame rate out; 25 is the common camera default.
    private const double FallbackFps = 25;

    private VideoCapture? capture;
    private FramePacer? pacer;
    private long frameIndex;
    private bool ended;

    public string Description => $"file:{path}";

    public bool IsLive => false;

    public void Open()
    {
        Release();
        capture = OpenCapture();
        frameIndex = 0;
        ended = false;
        pacer = settings.RealTime ? new FramePacer(FpsOf(capture)) : null;
    }

    public SourceFrame? Read(CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        if (ended)
            return null;
        if (capture is null)
            throw new FrameSourceException($"video {Description}: not open; open it first");

        pacer?.WaitForNextFrame(cancellation);
        var image = BgrFrames.ReadNext(capture, $"video {Description}");
        if (image is null && settings.Loop)
            image = ReadFromStart();
        if (image is null)
        {
            ended = true;
            return null;
        }

        var capturedAt = DateTimeOffset.UtcNow;
        return new SourceFrame(image, (frameIndex++).ToString(CultureInfo.InvariantCulture), capturedAt);
    }

    public void Complete(SourceFrame frame)
    {
    }

    public void Dispose() => Release();

    // Reopening rather than seeking to frame 0: seeking is exact only for some codecs and containers, a fresh
    // capture always starts at the first frame.
    private Mat ReadFromStart()
    {
        Release();
        capture = OpenCapture();
        return BgrFrames.ReadNext(capture, $"video {Description}")
            ?? throw new FrameSourceException($"video {Description}: no frame can be read from the start of the file, so it cannot loop; expected a video with at least one decodable frame");
    }

    private VideoCapture OpenCapture()
    {
        if (!File.Exists(path))
            throw new FrameSourceException($"video {Description}: the file '{Path.GetFullPath(path)}' does not exist; check the path");
        var capture = new VideoCapture(path, VideoCaptureAPIs.ANY);
        if (capture.IsOpened())
            return capture;
        capture.Dispose();
        throw new FrameSourceException($"video {Description}: cannot be opened; expected a video file that OpenCV's FFmpeg can decode (e.g. MJPG in .avi, H.264 in .mp4)");
    }

    private static double FpsOf(VideoCapture capture)
    {
        var fps = capture.Get(VideoCaptureProperties.Fps);
        return double.IsFinite(fps) && fps is > 0 and <= 1000 ? fps : FallbackFps;
    }

    private void Release()
    {
        capture?.Dispose();
        capture = null;
    }
}
