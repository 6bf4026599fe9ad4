using DefectInspector.Vision.Capture;
using OpenCvSharp;

namespace DefectInspector.Vision.Tests.Capture;

public sealed class SyntheticPartsTests
{
    public static TheoryData<DefectKind> Kinds => [.. Enum.GetValues<DefectKind>()];

    [Fact]
    public void Good_part_is_a_lit_textured_part_on_a_darker_belt()
    {
        using var part = SyntheticParts.Draw(320, 240, new Random(5), defect: null);

        Assert.Null(part.Defect);
        Assert.Null(part.DefectBounds);
        Assert.Equal(0, Cv2.CountNonZero(part.DefectMask));
        Assert.Equal(MatType.CV_8UC3, part.Image.Type());
        Assert.Equal(new Size(320, 240), part.Image.Size());

        using var grey = new Mat();
        Cv2.CvtColor(part.Image, grey, ColorConversionCodes.BGR2GRAY);
        var inner = part.PartBounds;
        using var centre = grey[new Rect(inner.X + (inner.Width / 4), inner.Y + (inner.Height / 4), inner.Width / 2, inner.Height / 2)];
        using var corner = grey[new Rect(0, 0, 10, 10)];
        Cv2.MeanStdDev(centre, out var partMean, out var partSpread);
        Assert.True(partMean.Val0 - Cv2.Mean(corner).Val0 > 80, $"part {partMean.Val0:F0} is not clearly brighter than the belt {Cv2.Mean(corner).Val0:F0}");
        Assert.True(partSpread.Val0 > 2, $"part surface has no texture (std {partSpread.Val0:F2})");
    }

    /// <summary>The same seed draws the same part with and without the defect.</summary>
    private sealed record Twins(SyntheticPart Good, SyntheticPart Bad) : IDisposable
    {
        public static Twins Draw(int width, int height, int seed, DefectKind kind) =>
            new(SyntheticParts.Draw(width, height, new Random(seed), defect: null), SyntheticParts.Draw(width, height, new Random(seed), kind));

        public void Dispose()
        {
            Good.Dispose();
            Bad.Dispose();
        }
    }

    private static Mat GreyDifference(Mat a, Mat b)
    {
        using var difference = new Mat();
        Cv2.Absdiff(a, b, difference);
        return difference.CvtColor(ColorConversionCodes.BGR2GRAY);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Defect_is_inside_the_part_and_the_image_changes_exactly_there(DefectKind kind)
    {
        for (var seed = 0; seed < 12; seed++)
        {
            using var twins = Twins.Draw(240, 180, seed, kind);
            var (good, bad) = twins;

            Assert.Equal(kind, bad.Defect);
            var bounds = Assert.NotNull(bad.DefectBounds);
            Assert.True(bounds.Width > 0 && bounds.Height > 0, $"seed {seed}: empty defect");
            Assert.Equal(bounds, bounds & bad.PartBounds);
            Assert.Equal(bounds, Cv2.BoundingRect(bad.DefectMask));

            using var difference = GreyDifference(good.Image, bad.Image);
            var inside = Cv2.Mean(difference, bad.DefectMask).Val0;
            Assert.True(inside > 40, $"seed {seed}: the defect changes its pixels by only {inside:F1} grey levels");

            // Outside a small margin (edge softening) nothing changed; the belt and the part are the same.
            using var near = new Mat();
            Cv2.Dilate(bad.DefectMask, near, null, iterations: 3);
            using var away = new Mat();
            Cv2.BitwiseNot(near, away);
            Assert.Equal(0, Cv2.Norm(difference, NormTypes.INF, away));

            // Darker, not brighter, than the part was there.
            Assert.True(Cv2.Mean(bad.Image, bad.DefectMask).Val0 < Cv2.Mean(good.Image, bad.DefectMask).Val0 - 40);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Defect_stays_visible_at_a_128_pixel_model_input(DefectKind kind)
    {
        for (var seed = 0; seed < 12; seed++)
        {
            using var twins = Twins.Draw(640, 480, seed, kind);
            using var goodSmall = twins.Good.Image.Resize(new Size(128, 96), interpolation: InterpolationFlags.Area);
            using var badSmall = twins.Bad.Image.Resize(new Size(128, 96), interpolation: InterpolationFlags.Area);

            using var difference = GreyDifference(goodSmall, badSmall);
            Cv2.MinMaxLoc(difference, out _, out double strongest);
            Assert.True(strongest >= 40, $"{kind}, seed {seed}: at 128 px the defect darkens no pixel by more than {strongest} grey levels");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Defects_vary_in_position_and_size(DefectKind kind)
    {
        var boxes = new List<Rect>();
        for (var seed = 0; seed < 20; seed++)
        {
            using var part = SyntheticParts.Draw(240, 180, new Random(seed), kind);
            boxes.Add(part.DefectBounds!.Value);
        }

        Assert.True(boxes.Select(b => b.X / 10).Distinct().Count() >= 5, $"{kind}: defects sit at few places: {string.Join(", ", boxes)}");
        Assert.True(boxes.Select(b => b.Width * b.Height).Distinct().Count() >= 10, $"{kind}: defects have few sizes: {string.Join(", ", boxes)}");
        Assert.True(boxes.Count(b => b.Width > b.Height) is > 0 and < 20, $"{kind}: defects all have one orientation: {string.Join(", ", boxes)}");
    }

    [Fact]
    public void Too_small_frames_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticParts.Draw(16, 100, new Random(1), null));
    }
}
