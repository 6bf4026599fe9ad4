using System.Diagnostics;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace DefectInspector.Vision.Tests.Capture;

public sealed class VideoFileSourceTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private IFrameSource Open(string path, SourceSettings settings)
    {
        var source = FrameSources.Create($"file:{path}", settings, NullLogger.Instance);
        source.Open();
        return source;
    }

    [Fact]
    public void Without_loop_every_frame_comes_once_in_order_then_the_source_ends()
    {
        var video = TestVideos.Write(folder.File("clip.avi"));
        using var source = Open(video, new SourceSettings { Loop = false, RealTime = false });

        Assert.False(source.IsLive);
        for (var i = 0; i < 20; i++)
        {
            using var frame = source.Read(CancellationToken.None);
            Assert.NotNull(frame);
            Assert.Equal(i.ToString(), frame.FrameRef);
            Assert.Equal(new Size(TestVideos.Width, TestVideos.Height), frame.Image.Size());
            Assert.Equal(MatType.CV_8UC3, frame.Image.Type());
            Assert.Equal(i, TestVideos.IndexOf(frame.Image));
        }

        Assert.Null(source.Read(CancellationToken.None));
        Assert.Null(source.Read(CancellationToken.None));
    }

    [Fact]
    public void With_loop_reading_goes_on_past_the_end_and_frame_refs_keep_counting()
    {
        var video = TestVideos.Write(folder.File("clip.avi"));
        using var source = Open(video, new SourceSettings { Loop = true, RealTime = false });

        for (var i = 0; i < 45; i++)
        {
            using var frame = source.Read(CancellationToken.None);
            Assert.NotNull(frame);
            Assert.Equal(i.ToString(), frame.FrameRef);
            Assert.Equal(i % 20, TestVideos.IndexOf(frame.Image));
        }
    }

    [Fact]
    public void Real_time_delivers_frames_at_the_file_frame_rate()
    {
        var video = TestVideos.Write(folder.File("clip.avi"), frames: 12, fps: 20);
        using var source = Open(video, new SourceSettings { Loop = false, RealTime = true });

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 11; i++)
            source.Read(CancellationToken.None)!.Dispose();
        clock.Stop();

        // 10 intervals of 50 ms after the first frame; only a lower bound, as a loaded machine may be slower.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(0.6 * 500), $"11 frames at 20 fps took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Real_time_wait_stops_when_cancelled()
    {
        var video = TestVideos.Write(folder.File("slow.avi"), frames: 3, fps: 0.5);
        using var source = Open(video, new SourceSettings { Loop = false, RealTime = true });
        source.Read(CancellationToken.None)!.Dispose();

        // The next frame is due in 2 s.
        SourceReads.AssertCancelledPromptly(source, TimeSpan.FromMilliseconds(200), within: TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public void Missing_file_fails_at_open_naming_it()
    {
        var path = folder.File("nope.avi");
        using var source = FrameSources.Create($"file:{path}", new SourceSettings(), NullLogger.Instance);

        var e = Assert.Throws<FrameSourceException>(source.Open);

        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void File_that_is_no_video_fails_at_open()
    {
        var path = folder.File("notes.avi");
        File.WriteAllText(path, "this is not a video");
        using var source = FrameSources.Create($"file:{path}", new SourceSettings(), NullLogger.Instance);

        var e = Assert.Throws<FrameSourceException>(source.Open);

        Assert.Contains(path, e.Message);
    }
}
