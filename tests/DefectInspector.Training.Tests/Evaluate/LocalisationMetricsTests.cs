using DefectInspector.Core.Explain;
using DefectInspector.Training.Evaluate;
using static DefectInspector.Training.Tests.Outcomes;

namespace DefectInspector.Training.Tests.Evaluate;

public sealed class LocalisationMetricsTests
{
    private const int Size = 64;

    // Defect pixels x, y in [30, 35).
    private static readonly bool[] Square = Mask(Size, Size, 30, 30, 5, 5);

    private static LocalisationSummary PointingAt(int x, int y) =>
        LocalisationMetrics.Compute([Of("d.png", "crack", 0.9f, heat: Heat(Size, Size, 1f, (x, y)), mask: Square)]);

    [Theory]
    [InlineData(32, 32, true)] // on the defect
    [InlineData(44, 32, true)] // 10 px right of the defect's edge column 34
    [InlineData(49, 32, true)] // 15 px: the radius is inclusive
    [InlineData(50, 32, false)] // 16 px
    [InlineData(54, 32, false)] // 20 px
    [InlineData(45, 45, false)] // 11 px along both axes: 15.6 px away, inside a 15 px square but outside the disc
    [InlineData(44, 44, true)] // 10 px along both axes: 14.1 px away
    public void Pointing_game_hits_when_the_peak_is_within_15_px_of_a_defect_pixel(int x, int y, bool hit)
    {
        var summary = PointingAt(x, y);

        Assert.Equal(1, summary.DefectImagesScored);
        Assert.Equal(hit ? 1 : 0, summary.PointingHits);
        Assert.Equal(hit ? 1.0 : 0.0, summary.PointingGame);
    }

    [Fact]
    public void Peak_distance_is_to_the_nearest_defect_pixel_and_infinite_without_one()
    {
        // Peak 14 px right of and 2 px below the square's corner pixel (34, 34): sqrt(14^2 + 2^2).
        var heat = Heat(Size, Size, 1f, (48, 36));

        Assert.Equal(Math.Sqrt(14 * 14 + 2 * 2), LocalisationMetrics.PeakDistance(heat, Square), 12);
        Assert.Equal((48, 36), LocalisationMetrics.Peak(heat));
        Assert.Equal(double.PositiveInfinity, LocalisationMetrics.PeakDistance(heat, new bool[Size * Size]));
    }

    [Fact]
    public void Pointing_radius_is_configurable()
    {
        var outcome = Of("d.png", "crack", 0.9f, heat: Heat(Size, Size, 1f, (44, 32)), mask: Square);

        Assert.Equal(0, LocalisationMetrics.Compute([outcome], new LocalisationOptions(PointingRadius: 9)).PointingHits);
        Assert.Equal(1, LocalisationMetrics.Compute([outcome], new LocalisationOptions(PointingRadius: 10)).PointingHits);
    }

    [Fact]
    public void Images_without_usable_masks_or_heat_are_counted_and_left_out()
    {
        var heat = Heat(Size, Size, 1f, (0, 0)); // peak far from the square
        ImageOutcome[] outcomes =
        [
            Of("scored.png", "crack", 0.9f, heat: Heat(Size, Size, 1f, (32, 32)), mask: Square),
            Of("empty-mask.png", "crack", 0.9f, heat: heat, mask: new bool[Size * Size]),
            Of("no-mask.png", "crack", 0.9f, heat: heat),
            Of("no-heat.png", "crack", 0.9f, mask: Square),
            Of("good-no-heat.png", "good", 0.1f, regions: [RegionAt(0, 0, 4, 4)]),
        ];

        var s = LocalisationMetrics.Compute(outcomes);

        Assert.Equal((1, 1, 1, 2, 0), (s.DefectImagesScored, s.DefectImagesWithEmptyMask, s.DefectImagesWithoutMask, s.ImagesWithoutHeat, s.GoodImagesScored));
        // Only the scored image counts, and its peak is on the defect.
        Assert.Equal(1.0, s.PointingGame);
        Assert.Null(s.FalseRegionRate);
        Assert.Null(s.MeanRegionsPerGoodImage);
        Assert.Equal(Size * Size, s.PixelsTotal);
    }

    [Fact]
    public void Pixel_auroc_ranks_defect_pixels_against_background_and_good_pixels()
    {
        ImageOutcome[] outcomes =
        [
            Of("d.png", "crack", 0.9f, heat: new FloatMap(2, 1, [0.3f, 0.2f]), mask: [true, false]),
            Of("g.png", "good", 0.1f, heat: new FloatMap(2, 1, [0.5f, 0.1f])),
        ];

        var s = LocalisationMetrics.Compute(outcomes);

        // The defect pixel 0.3 beats 0.2 and 0.1 but not the good image's 0.5.
        Assert.Equal(2 / 3.0, s.PixelAuroc!.Value, 12);
        Assert.Equal((4L, 4), (s.PixelsTotal, s.PixelsSampled));
    }

    [Fact]
    public void Pixel_auroc_is_null_without_defect_pixels()
    {
        var s = LocalisationMetrics.Compute([Of("g.png", "good", 0.1f, heat: Heat(4, 4))]);

        Assert.Null(s.PixelAuroc);
        Assert.Null(s.PointingGame);
        Assert.Equal(1, s.GoodImagesScored);
    }

    [Fact]
    public void Large_sets_are_subsampled_deterministically_near_the_cap()
    {
        var random = new Random(3);
        var outcomes = Enumerable.Range(0, 6).Select(i =>
        {
            var mask = Mask(100, 100, 20 + i, 30, 25, 20);
            var values = mask.Select(m => (float)random.NextDouble() + (m ? 0.4f : 0f)).ToArray();
            return i % 3 == 2
                ? Of($"g{i}.png", "good", 0.1f, heat: new FloatMap(100, 100, values.Select(v => v * 0.9f).ToArray()))
                : Of($"d{i}.png", "crack", 0.9f, heat: new FloatMap(100, 100, values), mask: mask);
        }).ToList();

        var exact = LocalisationMetrics.Compute(outcomes);
        var sampled = LocalisationMetrics.Compute(outcomes, new LocalisationOptions(MaxPixels: 10_000));
        var again = LocalisationMetrics.Compute(outcomes, new LocalisationOptions(MaxPixels: 10_000));

        Assert.Equal((60_000L, 60_000), (exact.PixelsTotal, exact.PixelsSampled));
        Assert.Equal(60_000L, sampled.PixelsTotal);
        Assert.InRange(sampled.PixelsSampled, 9_500, 10_500);
        Assert.Equal((sampled.PixelsSampled, sampled.PixelAuroc), (again.PixelsSampled, again.PixelAuroc));
        Assert.InRange(sampled.PixelAuroc!.Value, exact.PixelAuroc!.Value - 0.02, exact.PixelAuroc.Value + 0.02);
        Assert.NotEqual(exact.PixelAuroc, sampled.PixelAuroc);
    }

    [Fact]
    public void Region_recall_iou_and_false_regions_follow_the_boxes()
    {
        var heat = Heat(Size, Size, 1f, (15, 15));
        var mask = Mask(Size, Size, 10, 10, 10, 10);
        ImageOutcome[] outcomes =
        [
            Of("exact.png", "crack", 0.9f, [RegionAt(10, 10, 10, 10)], heat, mask),
            Of("shifted.png", "crack", 0.9f, [RegionAt(15, 10, 10, 10)], heat, mask),
            Of("elsewhere.png", "crack", 0.9f, [RegionAt(40, 40, 5, 5)], heat, mask),
            Of("none.png", "crack", 0.9f, [], heat, mask),
            Of("g1.png", "good", 0.2f, [RegionAt(1, 1, 3, 3), RegionAt(50, 50, 3, 3)], heat),
            Of("g2.png", "good", 0.2f, [], heat),
            Of("g3.png", "good", 0.2f, [RegionAt(1, 1, 3, 3)], heat),
        ];

        var s = LocalisationMetrics.Compute(outcomes);

        Assert.Equal((2, 4), (s.RegionHits, s.DefectImagesScored));
        Assert.Equal(0.5, s.RegionRecall);
        // Exact box: 1; shifted by half: 50 shared of 150 covered; the others 0.
        Assert.Equal((1 + 1 / 3.0) / 4, s.MeanRegionIou!.Value, 12);
        Assert.Equal(2, s.GoodImagesWithRegions);
        Assert.Equal(2 / 3.0, s.FalseRegionRate!.Value, 12);
        Assert.Equal(1.0, s.MeanRegionsPerGoodImage);
    }

    [Fact]
    public void Each_defect_kind_gets_its_own_pointing_recall_and_iou()
    {
        var onDefect = Heat(Size, Size, 1f, (15, 15));
        var away = Heat(Size, Size, 1f, (60, 60));
        var mask = Mask(Size, Size, 10, 10, 10, 10);
        ImageOutcome[] outcomes =
        [
            Of("c1.png", "crack", 0.9f, [RegionAt(10, 10, 10, 10)], onDefect, mask),
            Of("c2.png", "crack", 0.9f, [], away, mask),
            Of("b1.png", "blowhole", 0.9f, [RegionAt(15, 10, 10, 10)], away, mask),
            Of("g1.png", "good", 0.2f, [RegionAt(1, 1, 3, 3)], onDefect),
            Of("n.png", "blowhole", 0.9f, heat: away),
        ];

        var s = LocalisationMetrics.Compute(outcomes);

        // Ordinal order; good images and the unmasked blowhole are not scored; the totals are the kinds' sums.
        Assert.Equal(["blowhole", "crack"], s.PerKind.Select(k => k.Kind));
        var (blowhole, crack) = (s.PerKind[0], s.PerKind[1]);
        Assert.Equal((1, 0, 1), (blowhole.Scored, blowhole.PointingHits, blowhole.RegionHits));
        Assert.Equal(1 / 3.0, blowhole.MeanRegionIou, 12);
        Assert.Equal((2, 1, 1), (crack.Scored, crack.PointingHits, crack.RegionHits));
        Assert.Equal((0.5, 0.5, 0.5), (crack.PointingGame, crack.RegionRecall, crack.MeanRegionIou));
        Assert.Equal((s.PointingHits, s.RegionHits), (s.PerKind.Sum(k => k.PointingHits), s.PerKind.Sum(k => k.RegionHits)));
    }

    [Fact]
    public void Iou_takes_the_union_of_overlapping_boxes_and_clips_them_to_the_frame()
    {
        var heat = Heat(Size, Size, 1f, (15, 15));
        ImageOutcome[] overlapping =
            [Of("o.png", "crack", 0.9f, [RegionAt(10, 10, 10, 6), RegionAt(10, 13, 10, 7)], heat, Mask(Size, Size, 10, 10, 10, 10))];
        ImageOutcome[] outside =
            [Of("c.png", "crack", 0.9f, [RegionAt(-5, -5, 20, 20)], heat, Mask(Size, Size, 0, 0, 15, 15))];

        Assert.Equal(1.0, LocalisationMetrics.Compute(overlapping).MeanRegionIou!.Value, 12);
        Assert.Equal(1.0, LocalisationMetrics.Compute(outside).MeanRegionIou!.Value, 12);
    }

    [Fact]
    public void A_mask_of_another_size_names_the_image()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            LocalisationMetrics.Compute([Of("odd.png", "crack", 0.9f, heat: Heat(8, 8), mask: new bool[10])]));

        Assert.Contains("odd.png", e.Message);
    }
}
