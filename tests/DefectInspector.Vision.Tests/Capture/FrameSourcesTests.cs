using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Logging.Abstractions;

namespace DefectInspector.Vision.Tests.Capture;

public sealed class FrameSourcesTests
{
    private static IFrameSource Create(string source, SourceSettings? settings = null) =>
        FrameSources.Create(source, settings ?? new SourceSettings(), NullLogger.Instance);

    [Theory]
    [InlineData("cam:3")]
    [InlineData("file:")]
    [InlineData("file:   ")]
    [InlineData("folder:")]
    [InlineData("device:front")]
    [InlineData("device:")]
    [InlineData("gst:")]
    [InlineData("ftp://127.0.0.1/cam")]
    [InlineData("")]
    public void Unparseable_source_names_the_value_and_lists_the_allowed_forms(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => Create(value));

        Assert.Equal("source", e.ParamName);
        Assert.Contains($"'{value.Trim()}'", e.Message);
        foreach (var form in new[] { "device:<index>", "device:/dev/videoN", "rtsp://", "http://", "gst:", "file:", "folder:", "virtual" })
            Assert.Contains(form, e.Message);
    }

    [Theory]
    [InlineData("device:0", "device:0", true)]
    [InlineData("device:/dev/video2", "device:/dev/video2", true)]
    [InlineData("rtsp://127.0.0.1:8554/cam", "rtsp://127.0.0.1:8554/cam", true)]
    [InlineData("RTSPS://cam.local/stream", "RTSPS://cam.local/stream", true)]
    [InlineData("http://127.0.0.1/stream.mjpg", "http://127.0.0.1/stream.mjpg", true)]
    [InlineData("gst:videotestsrc ! appsink", "gst:videotestsrc ! appsink", true)]
    [InlineData("file:/data/line.avi", "file:/data/line.avi", false)]
    [InlineData("folder:/data/in", "folder:/data/in", false)]
    [InlineData("  virtual ", "virtual", false)]
    public void Each_form_makes_its_kind_of_source(string value, string describedAs, bool live)
    {
        using var source = Create(value);

        Assert.StartsWith(describedAs, source.Description);
        Assert.Equal(live, source.IsLive);
    }

    [Theory]
    [InlineData("rtsp://admin:s3cret@10.1.2.3:554/Streaming/101", "rtsp://***@10.1.2.3:554/Streaming/101")]
    [InlineData("https://viewer:p@ss@cam.local/mjpg?res=hd", "https://***@cam.local/mjpg?res=hd")]
    [InlineData("rtsp://operator@cam.local/live", "rtsp://***@cam.local/live")]
    [InlineData("rtsp://admin:pa/ss@cam.local/live", "rtsp://***@cam.local/live")]
    [InlineData("gst:rtspsrc location=rtsp://u:s3cret@cam/x ! decodebin ! appsink", "gst:rtspsrc location=rtsp://***@cam/x ! decodebin ! appsink")]
    [InlineData("http://cam.local/a@b", "http://cam.local/a@b")]
    public void Stream_description_masks_credentials(string url, string expected)
    {
        using var source = Create(url);

        Assert.Equal(expected, source.Description);
    }

    /// <summary>Creates and opens the source, which must fail; returns the failure's message.</summary>
    private static string OpenFailure(string value, SourceSettings? settings = null)
    {
        using var source = Create(value, settings);
        return Assert.Throws<FrameSourceException>(source.Open).Message;
    }

    [Fact]
    public void Missing_folder_fails_at_open_naming_the_folder()
    {
        using var temp = new TempFolder();
        var missing = temp.File("incoming");

        var message = OpenFailure($"folder:{missing}");

        Assert.Contains(missing, message);
        Assert.Contains("does not exist", message);
    }

    [Fact]
    public void Missing_camera_device_fails_at_open_with_what_to_check()
    {
        var message = OpenFailure("device:/dev/video97");

        Assert.Contains("device:/dev/video97", message);
        Assert.Contains("v4l2-ctl", message);
    }

    // Without GStreamer in the OpenCV build (so in the official runtime package) the message says so; with it, this
    // pipeline has no such element and the message points at the pipeline. Either way it names GStreamer.
    [Fact]
    public void GStreamer_pipeline_that_cannot_run_fails_at_open_mentioning_GStreamer()
    {
        var message = OpenFailure("gst:no-such-element ! appsink");

        Assert.Contains("gst:no-such-element", message);
        Assert.Contains("GStreamer", message);
    }

    [Fact]
    public void Stream_nobody_serves_fails_at_open_with_ffmpeg_reason_and_no_password()
    {
        var message = OpenFailure("rtsp://inspector:s3cret@127.0.0.1:9/cam", new SourceSettings { StreamTimeout = TimeSpan.FromSeconds(3) });

        Assert.Contains("rtsp://***@127.0.0.1:9/cam", message);
        Assert.Contains("ffmpeg exited", message);
        Assert.Contains("StreamTimeout", message);
        Assert.DoesNotContain("s3cret", message);
    }

    [Fact]
    public void Stream_without_ffmpeg_fails_at_open_saying_how_to_get_it()
    {
        var message = OpenFailure("http://127.0.0.1:9/stream.mjpg", new SourceSettings { FfmpegPath = "/nonexistent/bin/ffmpeg" });

        Assert.Contains("/nonexistent/bin/ffmpeg", message);
        Assert.Contains("apt-get install ffmpeg", message);
    }

    [Fact]
    public void Out_of_range_settings_fail_at_create()
    {
        Assert.ThrowsAny<ArgumentException>(() => Create("virtual", new SourceSettings { VirtualFps = 0 }));
        Assert.ThrowsAny<ArgumentException>(() => Create("virtual", new SourceSettings { VirtualDefectRate = 1.5 }));
        Assert.ThrowsAny<ArgumentException>(() => Create("virtual", new SourceSettings { VirtualWidth = 8 }));
        Assert.ThrowsAny<ArgumentException>(() => Create("rtsp://127.0.0.1/cam", new SourceSettings { StreamTimeout = TimeSpan.Zero }));
    }
}
