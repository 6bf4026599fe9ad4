using System.Diagnostics;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace DefectInspector.Vision.Tests.Capture;

/// <summary>Network cameras played on loopback: RTSP through ffmpeg, HTTP MJPEG from an in-test server.</summary>
public sealed class LiveStreamTests : IDisposable
{
    private static readonly SourceSettings Settings = new() { StreamTimeout = TimeSpan.FromSeconds(2) };

    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>A camera that was just (re)started may take a moment to answer; the daemon retries the same way.</summary>
    private static void OpenWithin(IFrameSource source, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                source.Open();
                return;
            }
            catch (FrameSourceException) when (clock.Elapsed < patience)
            {
                Thread.Sleep(250);
            }
        }
    }

    private static List<string> ReadFrames(IFrameSource source, int count, Size size)
    {
        var refs = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var frame = source.Read(CancellationToken.None);
            Assert.NotNull(frame);
            Assert.Equal(size, frame.Image.Size());
            Assert.Equal(MatType.CV_8UC3, frame.Image.Type());
            Assert.InRange(TestVideos.IndexOf(frame.Image), 0, 19);
            refs.Add(frame.FrameRef);
        }

        return refs;
    }

    /// <summary>Reads until the source fails; fails the test if it is still delivering or blocked after the timeout and a margin.</summary>
    private static async Task<FrameSourceException> ReadUntilFailure(IFrameSource source)
    {
        var reading = Task.Run(() =>
        {
            // Frames already buffered before the camera stopped may still come; a bounded loop keeps a broken
            // source from reading on for ever.
            for (var i = 0; i < 500; i++)
                source.Read(CancellationToken.None)?.Dispose();
        });
        var limit = Settings.StreamTimeout + TimeSpan.FromSeconds(10);
        var first = await Task.WhenAny(reading, Task.Delay(limit));
        Assert.True(first == reading, $"Read neither failed nor returned within {limit.TotalSeconds} s of the camera stopping");
        return await Assert.ThrowsAsync<FrameSourceException>(() => reading);
    }

    [Fact]
    public async Task Rtsp_camera_is_read_fails_when_it_goes_silent_and_reads_again_after_reopening()
    {
        var video = TestVideos.Write(temp.File("line.avi"));
        using var camera = new RtspTestCamera(video, temp.Path);
        camera.StartStreaming();
        using var source = FrameSources.Create(camera.Url("inspector:s3cret"), Settings, NullLogger.Instance);
        Assert.True(source.IsLive);
        Assert.DoesNotContain("s3cret", source.Description);

        OpenWithin(source, TimeSpan.FromSeconds(10));
        var refs = ReadFrames(source, 5, new Size(TestVideos.Width, TestVideos.Height));
        Assert.Equal(["0", "1", "2", "3", "4"], refs);

        camera.StopStreaming();
        var clock = Stopwatch.StartNew();
        var failure = await ReadUntilFailure(source);
        Assert.Contains("stream ended or read failed", failure.Message);
        Assert.DoesNotContain("s3cret", failure.Message);
        Assert.True(clock.Elapsed >= Settings.StreamTimeout * 0.5, $"failed after {clock.ElapsedMilliseconds} ms, before the read timeout could have run out");

        camera.StartStreaming();
        OpenWithin(source, TimeSpan.FromSeconds(10));
        ReadFrames(source, 3, new Size(TestVideos.Width, TestVideos.Height));
    }

    [Fact]
    public void A_cameras_password_is_not_on_ffmpegs_command_line()
    {
        var video = TestVideos.Write(temp.File("line.avi"));
        using var camera = new RtspTestCamera(video, temp.Path);
        camera.StartStreaming();
        using var source = FrameSources.Create(camera.Url("inspector:s3cret"), Settings, NullLogger.Instance);
        OpenWithin(source, TimeSpan.FromSeconds(10));
        ReadFrames(source, 3, new Size(TestVideos.Width, TestVideos.Height));

        // What ps shows every account on the PC: the command lines of this process's children (the decoder and the
        // test camera's sender).
        var children = ChildCommandLines();
        Assert.Contains(children, c => c.Contains("image2pipe", StringComparison.Ordinal));
        Assert.DoesNotContain(children, c => c.Contains("s3cret", StringComparison.Ordinal));
    }

    private static List<string> ChildCommandLines()
    {
        var lines = new List<string>();
        foreach (var folder in Directory.GetDirectories("/proc"))
        {
            try
            {
                // stat: "pid (name) state ppid ..."; the name may hold spaces and parentheses, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var parent = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
                if (parent == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    lines.Add(File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' '));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not a process, or one that ended while being read.
            }
        }
        return lines;
    }

    [Fact]
    public async Task Http_mjpeg_stream_is_read_and_fails_when_the_camera_closes_it()
    {
        byte[] jpeg;
        using (var image = TestVideos.Frame(7, 96, 72))
            jpeg = TestImages.Encode(image, ".jpg");
        using var server = new MjpegTestServer(jpeg, fps: 25);
        var url = server.Url;
        using var source = FrameSources.Create(url, Settings, NullLogger.Instance);
        Assert.True(source.IsLive);

        OpenWithin(source, TimeSpan.FromSeconds(10));
        for (var i = 0; i < 5; i++)
        {
            using var frame = source.Read(CancellationToken.None);
            Assert.NotNull(frame);
            Assert.Equal(new Size(96, 72), frame.Image.Size());
            Assert.Equal(MatType.CV_8UC3, frame.Image.Type());
            Assert.Equal(7, TestVideos.IndexOf(frame.Image));
        }

        Assert.Contains(server.Requests, r => r.StartsWith("GET /stream.mjpg ", StringComparison.Ordinal));

        server.Stop();
        var failure = await ReadUntilFailure(source);
        Assert.Contains(url, failure.Message);
    }
}
