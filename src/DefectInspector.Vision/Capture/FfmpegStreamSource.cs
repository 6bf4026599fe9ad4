using System.Globalization;
using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// A network camera (RTSP or HTTP, e.g. MJPEG) received and decoded by an ffmpeg child process. Not through
/// OpenCV's VideoCapture: the FFmpeg inside the OpenCvSharp runtime package has no network protocols at all, and a
/// separate process also turns a hung camera into a timeout here instead of a read that blocks for ever.
/// </summary>
internal sealed class FfmpegStreamSource(string url, SourceSettings settings) : IFrameSource
{
    private FfmpegDecoder? decoder;

    // Open waits for the first frame to prove the stream works; Read hands that frame out first.
    private (Mat Image, DateTimeOffset At)? firstFrame;

    // Not reset by a reopen, so that frame references stay unique for the life of the daemon.
    private long frameIndex;

    public string Description { get; } = StreamUrls.MaskCredentials(url);

    public bool IsLive => true;

    public void Open()
    {
        Release();
        var decoder = FfmpegDecoder.Start(settings.FfmpegPath, Arguments, Script(), Description, Mask);
        // Waiting here makes a wrong address, refused credentials or a silent camera fail Open, where the caller
        // expects it, rather than the first Read.
        var wait = decoder.Take(settings.StreamTimeout, CancellationToken.None, out var image, out var at);
        if (wait != DecoderWait.Frame)
        {
            var why = Why(wait, decoder);
            decoder.Dispose();
            throw new FrameSourceException(string.Create(CultureInfo.InvariantCulture,
                $"camera {Description}: cannot be opened ({why}); check the address and credentials, that the camera or server is reachable from here, and that it sends video within {settings.StreamTimeout.TotalSeconds:0.#} s (StreamTimeout)"));
        }

        this.decoder = decoder;
        firstFrame = (image!, at);
    }

    public SourceFrame? Read(CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        if (firstFrame is { } first)
        {
            firstFrame = null;
            return Frame(first.Image, first.At);
        }

        var decoder = this.decoder ?? throw new FrameSourceException($"camera {Description}: not open (it failed before or was never opened); open it again");
        var wait = decoder.Take(settings.StreamTimeout, cancellation, out var image, out var at);
        if (wait == DecoderWait.Frame)
            return Frame(image!, at);

        var why = Why(wait, decoder);
        Release();
        throw new FrameSourceException($"camera {Description}: stream ended or read failed ({why}); reopen the source");
    }

    public void Complete(SourceFrame frame)
    {
    }

    public void Dispose() => Release();

    private SourceFrame Frame(Mat image, DateTimeOffset capturedAt) =>
        new(image, (frameIndex++).ToString(CultureInfo.InvariantCulture), capturedAt);

    private string Why(DecoderWait wait, FfmpegDecoder decoder) =>
        wait == DecoderWait.TimedOut
            ? string.Create(CultureInfo.InvariantCulture, $"no frame for {settings.StreamTimeout.TotalSeconds:0.#} s")
            : decoder.WhyEnded();

    private string Mask(string text) => text.Replace(url, Description, StringComparison.Ordinal);

    // The address reaches ffmpeg as a one-entry concat script on its stdin rather than as an argument: a camera's
    // user:password in it would otherwise be on ffmpeg's command line, which every account on the PC can read (ps,
    // /proc). ffmpeg takes RTSP and HTTP credentials only inside the URL, so this is the one way to keep them off it.
    private static readonly string[] Arguments =
    [
        "-hide_banner", "-loglevel", "error", "-nostdin",
        "-f", "concat", "-safe", "0", "-protocol_whitelist", "pipe,tcp,udp,rtp,srtp,tls,http,https,httpproxy,crypto", "-i", "pipe:0",
        "-an", "-sn", "-dn", "-f", "image2pipe", "-c:v", "bmp", "-pix_fmt", "bgr24", "pipe:1",
    ];

    private string Script()
    {
        // Quoted for ffconcat: inside single quotes everything is literal except the quote itself. A line break would
        // end the directive, and no URL holds one unencoded.
        var quoted = "'" + url.Replace("'", @"'\''", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal) + "'";
        var script = $"ffconcat version 1.0\nfile {quoted}\n";
        // TCP, not RTP over UDP: on a busy plant network lost UDP packets smear frames, which reads as defects.
        if (url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase))
            script += "option rtsp_transport tcp\n";
        return script;
    }

    private void Release()
    {
        firstFrame?.Image.Dispose();
        firstFrame = null;
        decoder?.Dispose();
        decoder = null;
    }
}
