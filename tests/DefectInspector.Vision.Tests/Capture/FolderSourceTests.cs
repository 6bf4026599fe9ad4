using DefectInspector.Vision.Capture;
using DefectInspector.Vision.Imaging;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace DefectInspector.Vision.Tests.Capture;

public sealed class FolderSourceTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    // Long enough for several polls (200 ms) to have seen a settled file.
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(900);

    private readonly TempFolder temp = new();
    private readonly RecordingLogger logger = new();
    private readonly string inbox;
    private readonly SourceSettings moving;
    private readonly SourceSettings journaling;

    public FolderSourceTests()
    {
        inbox = Directory.CreateDirectory(temp.File("inbox")).FullName;
        moving = new SourceSettings { StateDirectory = temp.File("state") };
        journaling = moving with { ProcessedFolder = null };
    }

    public void Dispose() => temp.Dispose();

    public static TheoryData<bool> BothLedgers => [true, false];

    private SourceSettings Settings(bool moving) => moving ? this.moving : journaling;

    private IFrameSource OpenFolder(SourceSettings settings)
    {
        var source = FrameSources.Create($"folder:{inbox}", settings, logger);
        source.Open();
        return source;
    }

    private string Drop(string name, int index = 0, DateTime? writtenAt = null)
    {
        using var image = TestVideos.Frame(index, 64, 48);
        var path = TestImages.Write(image, Path.Combine(inbox, name));
        if (writtenAt is not null)
            File.SetLastWriteTimeUtc(path, writtenAt.Value);
        return path;
    }

    private static SourceFrame ReadSoon(IFrameSource source)
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            return source.Read(timeout.Token) ?? throw new Xunit.Sdk.XunitException("a folder source ended; it should wait for files");
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no file came from the folder within {Patience.TotalSeconds} s");
        }
    }

    private static void AssertNothingMore(IFrameSource source)
    {
        using var timeout = new CancellationTokenSource(Quiet);
        SourceFrame? frame = null;
        try
        {
            frame = source.Read(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        using (frame)
            Assert.Fail($"expected no more files, got '{frame?.FrameRef}'");
    }

    /// <summary>Reads until the folder stays quiet; the first file may take as long as <see cref="Patience"/>.</summary>
    private List<string> ReadAll(IFrameSource source, bool complete)
    {
        var names = new List<string>();
        while (true)
        {
            using var timeout = new CancellationTokenSource(names.Count == 0 ? Patience : Quiet);
            try
            {
                using var frame = source.Read(timeout.Token)!;
                names.Add(frame.FrameRef);
                if (complete)
                    source.Complete(frame);
            }
            catch (OperationCanceledException)
            {
                return names;
            }
        }
    }

    private string[] Remaining() => Names(inbox);

    private static string[] Names(string folder) =>
        Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

    private string[] In(string subfolder)
    {
        var path = Path.Combine(inbox, subfolder);
        return Directory.Exists(path) ? Names(path) : [];
    }

    [Fact]
    public async Task Files_come_oldest_first_dropped_files_are_picked_up_and_completed_ones_move_to_processed()
    {
        var now = DateTime.UtcNow;
        Drop("a.png", 1, now.AddMinutes(-1));
        Drop("b.png", 2, now.AddMinutes(-2));
        using var source = OpenFolder(moving);
        Assert.False(source.IsLive);

        using (var first = ReadSoon(source))
        {
            Assert.Equal("b.png", first.FrameRef);
            Assert.Equal(2, TestVideos.IndexOf(first.Image));
            Assert.Equal(MatType.CV_8UC3, first.Image.Type());
            source.Complete(first);
        }

        using (var second = ReadSoon(source))
        {
            Assert.Equal("a.png", second.FrameRef);
            source.Complete(second);
        }

        var reading = Task.Run(() => ReadSoon(source));
        await Task.Delay(300);
        Drop("c.jpg", 3);
        using (var third = await reading)
        {
            Assert.Equal("c.jpg", third.FrameRef);
            source.Complete(third);
        }

        Assert.Empty(Remaining());
        Assert.Equal(["a.png", "b.png", "c.jpg"], In("processed"));
    }

    [Theory]
    [MemberData(nameof(BothLedgers))]
    public void After_a_restart_completed_files_are_not_read_again_but_uncompleted_ones_are(bool moving)
    {
        var now = DateTime.UtcNow;
        Drop("done.png", 1, now.AddSeconds(-20));
        Drop("crashed.png", 2, now.AddSeconds(-10));

        using (var before = OpenFolder(Settings(moving)))
        {
            using var done = ReadSoon(before);
            Assert.Equal("done.png", done.FrameRef);
            before.Complete(done);
            using var crashed = ReadSoon(before);
            Assert.Equal("crashed.png", crashed.FrameRef);
            // In flight and never completed: it must not be handed out a second time in this run either.
            AssertNothingMore(before);
        }

        using (var after = OpenFolder(Settings(moving)))
        {
            using var again = ReadSoon(after);
            Assert.Equal("crashed.png", again.FrameRef);
            Assert.Equal(2, TestVideos.IndexOf(again.Image));
            after.Complete(again);
            AssertNothingMore(after);
        }

        if (moving)
        {
            Assert.Equal(["crashed.png", "done.png"], In("processed"));
        }
        else
        {
            Assert.Equal(["crashed.png", "done.png"], Remaining());
            var journal = Assert.Single(Directory.GetFiles(this.moving.StateDirectory));
            Assert.Contains("\"done.png\"", File.ReadAllText(journal));
        }
    }

    [Fact]
    public void A_journal_cut_off_mid_line_by_a_crash_still_loads_and_records_on()
    {
        Drop("one.png", 1, DateTime.UtcNow.AddSeconds(-20));
        using (var source = OpenFolder(journaling))
        {
            using var frame = ReadSoon(source);
            source.Complete(frame);
        }

        var journal = Assert.Single(Directory.GetFiles(journaling.StateDirectory));
        File.AppendAllText(journal, "{\"file\":\"two.p");
        Drop("two.png", 2, DateTime.UtcNow.AddSeconds(-10));

        using (var source = OpenFolder(journaling))
        {
            using var frame = ReadSoon(source);
            Assert.Equal("two.png", frame.FrameRef);
            source.Complete(frame);
        }

        using var last = OpenFolder(journaling);
        AssertNothingMore(last);
    }

    [Theory]
    [MemberData(nameof(BothLedgers))]
    public void Unreadable_files_are_rejected_with_a_warning_and_the_good_ones_still_come(bool moving)
    {
        var now = DateTime.UtcNow;
        Drop("good1.png", 1, now.AddSeconds(-50));
        using (var original = TestVideos.Frame(4, 64, 48))
        {
            var jpeg = TestImages.Encode(original, ".jpg");
            File.WriteAllBytes(Path.Combine(inbox, "truncated.jpg"), jpeg[..(jpeg.Length / 2)]);
        }

        File.WriteAllBytes(Path.Combine(inbox, "empty.png"), []);
        File.WriteAllText(Path.Combine(inbox, "x.png"), "not an image, despite the name");
        foreach (var name in new[] { "truncated.jpg", "empty.png", "x.png" })
            File.SetLastWriteTimeUtc(Path.Combine(inbox, name), now.AddSeconds(-40));
        Drop("good2.png", 2, now.AddSeconds(-30));

        using (var source = OpenFolder(Settings(moving)))
            Assert.Equal(["good1.png", "good2.png"], ReadAll(source, complete: true));

        string[] bad = ["empty.png", "truncated.jpg", "x.png"];
        Assert.Equal(bad, logger.Warnings.Select(w => (string)w.Fields["File"]!).Order(StringComparer.Ordinal));
        Assert.All(logger.Warnings, w => Assert.False(string.IsNullOrWhiteSpace(w.Fields["Reason"] as string)));
        Assert.Contains("truncated", logger.Warnings.Single(w => (string)w.Fields["File"]! == "truncated.jpg").Fields["Reason"] as string);
        Assert.Contains("empty", logger.Warnings.Single(w => (string)w.Fields["File"]! == "empty.png").Fields["Reason"] as string);
        if (moving)
        {
            Assert.Equal(bad.SelectMany(b => new[] { b, b + MovingLedger.ReasonSuffix }).Order(StringComparer.Ordinal), In("rejected"));
            Assert.Contains("truncated", File.ReadAllText(Path.Combine(inbox, "rejected", "truncated.jpg" + MovingLedger.ReasonSuffix)));
            Assert.Empty(Remaining());
        }

        // Rejected once is rejected for good: a restart neither offers them nor warns again.
        using var restarted = OpenFolder(Settings(moving));
        AssertNothingMore(restarted);
        Assert.Equal(3, logger.Warnings.Count);
    }

    [Fact]
    public void Images_too_large_by_header_or_file_size_are_moved_to_rejected_with_the_reason_beside_them()
    {
        var now = DateTime.UtcNow;
        HugeTiff.Write(Path.Combine(inbox, "huge.tif"), 12000, 12000);
        using (var vast = File.Create(Path.Combine(inbox, "vast.bmp")))
            vast.SetLength(ImageReader.MaxFileBytes + 1);
        foreach (var name in new[] { "huge.tif", "vast.bmp" })
            File.SetLastWriteTimeUtc(Path.Combine(inbox, name), now.AddSeconds(-40));
        Drop("good.png", 1, now.AddSeconds(-30));

        using (var source = OpenFolder(moving))
            Assert.Equal(["good.png"], ReadAll(source, complete: true));

        string Reason(string name) => File.ReadAllText(Path.Combine(inbox, "rejected", name + MovingLedger.ReasonSuffix));
        Assert.Contains("12000x12000 (144 megapixels); expected at most 100 megapixels", Reason("huge.tif"));
        Assert.Contains("expected at most 671 MB", Reason("vast.bmp"));
        Assert.Equal(["huge.tif", "vast.bmp"], logger.Warnings.Select(w => (string)w.Fields["File"]!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Hidden_and_temporary_files_are_left_alone()
    {
        var png = Drop(".hidden.png", 1);
        File.Copy(png, Path.Combine(inbox, "upload.png.part"));
        File.Copy(png, Path.Combine(inbox, "copy.tmp"));
        Drop("real.bmp", 4);

        using var source = OpenFolder(moving);

        Assert.Equal(["real.bmp"], ReadAll(source, complete: true));
        Assert.Empty(logger.Warnings);
        Assert.Equal([".hidden.png", "copy.tmp", "upload.png.part"], Remaining());
    }

    [Fact]
    public async Task A_file_still_being_written_is_taken_only_once_it_stops_growing()
    {
        using var big = TestVideos.Frame(5, 400, 300);
        Cv2.Randu(big, Scalar.All(0), Scalar.All(255)); // noise does not compress, so the file is large
        var bytes = TestImages.Encode(big, ".png");
        var path = Path.Combine(inbox, "growing.png");
        using var source = OpenFolder(moving);

        var finished = DateTime.MaxValue;
        var writer = Task.Run(() =>
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            const int chunks = 20;
            for (var i = 0; i < chunks; i++)
            {
                var start = bytes.Length * i / chunks;
                stream.Write(bytes, start, (bytes.Length * (i + 1) / chunks) - start);
                stream.Flush();
                // Well under one poll: the size changes between any two polls until the end.
                Thread.Sleep(40);
            }

            finished = DateTime.UtcNow;
        });

        using var frame = ReadSoon(source);
        var taken = DateTime.UtcNow;
        await writer;

        Assert.Equal("growing.png", frame.FrameRef);
        Assert.True(taken >= finished, $"the file was taken {(finished - taken).TotalMilliseconds:F0} ms before it was complete");
        Assert.Equal(0, Cv2.Norm(big, frame.Image, NormTypes.INF));
        Assert.Empty(logger.Warnings);
    }

    [Fact]
    public void Waiting_for_files_stops_promptly_when_cancelled()
    {
        using var source = OpenFolder(moving);

        SourceReads.AssertCancelledPromptly(source, TimeSpan.FromMilliseconds(300), within: TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Only_one_source_may_keep_a_folder_journal()
    {
        using var first = OpenFolder(journaling);
        using var second = FrameSources.Create($"folder:{inbox}", journaling, logger);

        var e = Assert.Throws<FrameSourceException>(second.Open);

        Assert.Contains(inbox, e.Message);
    }

    [Fact]
    public void Completing_a_file_that_cannot_be_moved_logs_an_error_and_does_not_hand_it_out_again()
    {
        Drop("stuck.png", 1);
        using var source = OpenFolder(moving with { ProcessedFolder = "blocked" });
        File.WriteAllText(Path.Combine(inbox, "blocked"), "a file where the processed folder should be");

        using (var frame = ReadSoon(source))
            source.Complete(frame);

        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && (string)e.Fields["File"]! == "stuck.png");
        AssertNothingMore(source);
    }
}
