using System.Diagnostics;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace DefectInspector.Vision.Tests.Capture;

public sealed class VirtualLineTests
{
    private static IFrameSource OpenLine(SourceSettings settings)
    {
        var source = FrameSources.Create("virtual", settings, NullLogger.Instance);
        source.Open();
        return source;
    }

    private static readonly SourceSettings Fast = new() { RealTime = false, VirtualWidth = 160, VirtualHeight = 120, Seed = 7 };

    [Fact]
    public void Same_seed_gives_the_same_parts_and_another_seed_other_parts()
    {
        using var first = OpenLine(Fast);
        using var again = OpenLine(Fast);
        using var other = OpenLine(Fast with { Seed = 8 });

        for (var i = 1; i <= 5; i++)
        {
            using var a = first.Read(CancellationToken.None)!;
            using var b = again.Read(CancellationToken.None)!;
            using var c = other.Read(CancellationToken.None)!;
            Assert.Equal($"part-{i:D6}", a.FrameRef);
            Assert.Equal(new Size(160, 120), a.Image.Size());
            Assert.Equal(MatType.CV_8UC3, a.Image.Type());
            Assert.Equal(0, Cv2.Norm(a.Image, b.Image, NormTypes.INF));
            Assert.True(TestImages.MeanAbsDiff(a.Image, c.Image) > 1, $"part {i} is the same for seeds 7 and 8");
        }
    }

    [Fact]
    public void Reopening_starts_the_line_again_from_its_seed()
    {
        using var source = OpenLine(Fast);
        using var firstPart = source.Read(CancellationToken.None)!;
        source.Read(CancellationToken.None)!.Dispose();

        source.Open();
        using var afterReopen = source.Read(CancellationToken.None)!;

        Assert.Equal("part-000001", afterReopen.FrameRef);
        Assert.Equal(0, Cv2.Norm(firstPart.Image, afterReopen.Image, NormTypes.INF));
    }

    [Fact]
    public void Frames_are_what_the_synthetic_line_draws()
    {
        using var source = OpenLine(Fast with { VirtualDefectRate = 0.5 });
        var line = new SyntheticLine(160, 120, 0.5, seed: 7);

        for (var i = 0; i < 4; i++)
        {
            using var frame = source.Read(CancellationToken.None)!;
            using var part = line.Next();
            Assert.Equal(0, Cv2.Norm(frame.Image, part.Image, NormTypes.INF));
        }
    }

    [Fact]
    public void Share_of_defective_parts_is_roughly_the_configured_rate()
    {
        var line = new SyntheticLine(96, 96, 0.3, seed: 3);
        var kinds = new List<DefectKind?>();
        for (var i = 0; i < 200; i++)
        {
            using var part = line.Next();
            kinds.Add(part.Defect);
            Assert.Equal(part.Defect is not null, Cv2.CountNonZero(part.DefectMask) > 0);
        }

        // 60 expected; the bounds are about three standard deviations either side.
        Assert.InRange(kinds.Count(k => k is not null), 40, 80);
        foreach (var kind in Enum.GetValues<DefectKind>())
            Assert.Contains(kind, kinds);
    }

    [Fact]
    public void Real_time_delivers_parts_at_the_configured_rate()
    {
        using var source = OpenLine(Fast with { RealTime = true, VirtualFps = 20 });

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 6; i++)
            source.Read(CancellationToken.None)!.Dispose();

        // Five intervals of 50 ms after the first part; a lower bound only.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(0.6 * 250), $"6 parts at 20/s took {clock.ElapsedMilliseconds} ms");
    }
}
