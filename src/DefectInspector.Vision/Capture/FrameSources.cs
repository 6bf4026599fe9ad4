using System.Globalization;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>Turns a source string from configuration or the command line into the source it names.</summary>
public static class FrameSources
{
    /// <summary>The forms a source string may take, for help texts and error messages.</summary>
    public const string AllowedForms =
        "device:<index> or device:/dev/videoN (V4L2 camera), rtsp://… or rtsps://… (RTSP camera), http://… or https://… (MJPEG or other HTTP stream; both decoded by ffmpeg), gst:<GStreamer pipeline ending in appsink>, file:<video file>, folder:<folder of images>, virtual (synthetic parts)";

    /// <summary>
    /// The source <paramref name="source"/> names, not yet opened. Whether a camera, file or folder is there is
    /// found out by <see cref="IFrameSource.Open"/>, which the caller retries; a string that names no source at
    /// all is a configuration error and fails here.
    /// </summary>
    /// <exception cref="ArgumentException">The string has none of the <see cref="AllowedForms"/>, or a setting it needs is out of range.</exception>
    public static IFrameSource Create(string source, SourceSettings settings, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        var text = source?.Trim() ?? "";
        if (text.Equals("virtual", StringComparison.OrdinalIgnoreCase))
            return new VirtualLine(settings);
        if (StreamUrls.IsStream(text))
            return Stream(text, settings);
        if (After(text, "device:") is { } device)
            return Device(device) ?? throw NotUnderstood(text, "device: takes a camera index (device:0) or a device path (device:/dev/video0)");
        if (After(text, "gst:") is { } pipeline)
            return GStreamer(pipeline);
        if (After(text, "file:") is { } file)
            return new VideoFileSource(file, settings);
        if (After(text, "folder:") is { } folder)
            return new FolderSource(folder, settings, logger);
        throw NotUnderstood(text, "no known source form");
    }

    /// <summary>
    /// Checks that <paramref name="source"/> names a source, as configuration validation does before anything opens;
    /// throws the <see cref="ArgumentException"/> <see cref="Create"/> would. Creating a source touches nothing.
    /// </summary>
    public static void Validate(string source)
    {
        using var _ = Create(source, new SourceSettings(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    /// <summary>What follows <paramref name="prefix"/>; null without the prefix; an error when nothing follows it.</summary>
    private static string? After(string text, string prefix)
    {
        if (!text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            return null;
        var rest = text[prefix.Length..].Trim();
        return rest.Length > 0 ? rest : throw NotUnderstood(text, $"nothing follows '{prefix}'");
    }

    private static ArgumentException NotUnderstood(string text, string why) =>
        new($"frame source '{StreamUrls.MaskCredentials(text)}' is not understood ({why}); expected one of: {AllowedForms}", "source");

    private static LiveCaptureSource? Device(string device)
    {
        if (int.TryParse(device, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return new LiveCaptureSource($"device:{index}", () => new VideoCapture(index, VideoCaptureAPIs.V4L2),
                DeviceHint($"/dev/video{index}"));
        }

        if (!device.StartsWith("/dev/", StringComparison.Ordinal))
            return null;
        return new LiveCaptureSource($"device:{device}", () => new VideoCapture(device, VideoCaptureAPIs.V4L2), DeviceHint(device));
    }

    private static string DeviceHint(string node) =>
        $"check that the camera is connected, that {node} exists (v4l2-ctl --list-devices), that this user may open it (group 'video'), and that no other program holds it";

    private static FfmpegStreamSource Stream(string url, SourceSettings settings)
    {
        if (settings.StreamTimeout <= TimeSpan.Zero || settings.StreamTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.StreamTimeout, "SourceSettings.StreamTimeout: expected a positive time span");
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.FfmpegPath, "settings.FfmpegPath");
        return new FfmpegStreamSource(url, settings);
    }

    // A pipeline's rtspsrc location may carry a camera's password: described masked, opened as given.
    private static LiveCaptureSource GStreamer(string pipeline) =>
        new($"gst:{StreamUrls.MaskCredentials(pipeline)}", () => OpenCvBackends.HasGStreamer
                ? new VideoCapture(pipeline, VideoCaptureAPIs.GSTREAMER)
                : throw new FrameSourceException($"camera gst:{StreamUrls.MaskCredentials(pipeline)}: this OpenCV build has no GStreamer support (the OpenCvSharp runtime package is built without it); use an rtsp:// or device: source, or run with an OpenCV built with GStreamer"),
            "check the GStreamer pipeline with gst-launch-1.0 and that it ends in 'appsink'");
}
