using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Vision.Regions;

namespace DefectInspector.Vision.Tests.Regions;

public sealed class RegionExtractorTests
{
    private const int Frame = 224; // 7x7 feature map, 32 px per cell

    private static FloatMap Map(int width, int height, params (int X, int Y, float V)[] cells)
    {
        var values = new float[width * height];
        foreach (var (x, y, v) in cells)
            values[y * width + x] = v;
        return new FloatMap(width, height, values);
    }

    /// <summary>Where a feature cell's centre lands in the frame (half-pixel-centre convention).</summary>
    private static (int X, int Y) Centre(int cellX, int cellY, int cell = 32) => ((int)((cellX + 0.5) * cell), (int)((cellY + 0.5) * cell));

    private static bool Contains(Box b, (int X, int Y) p) => p.X >= b.X && p.X < b.X + b.Width && p.Y >= b.Y && p.Y < b.Y + b.Height;

    [Fact]
    public void One_hot_spot_gives_one_region_over_its_projection()
    {
        var map = Map(7, 7, (5, 2, 3f));

        var region = Assert.Single(RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Relative, 0.5f, MinArea: 1)));

        Assert.True(Contains(region.Box, Centre(5, 2)), $"box {region.Box} misses the spot at {Centre(5, 2)}");
        // Bilinear heat is >= half the peak only within one cell of the centre.
        Assert.InRange(region.Box.X, 4 * 32 + 16, 5 * 32 + 16);
        Assert.InRange(region.Box.X + region.Box.Width, 5 * 32 + 16, 6 * 32 + 16);
        Assert.InRange(region.Box.Y, 1 * 32 + 16, 2 * 32 + 16);
        Assert.InRange(region.Box.Y + region.Box.Height, 2 * 32 + 16, 3 * 32 + 16);
        // No frame pixel centre falls exactly on the cell centre (it is at 175.5), so the peak is a little under 3.
        Assert.InRange(region.PeakHeat, 2.85f, 3f);
        Assert.InRange(region.MeanHeat, 1.5f, 3f);
        Assert.Equal(region.PeakHeat, region.Score);
    }

    [Fact]
    public void Non_square_frame_projects_each_axis_separately()
    {
        var map = Map(7, 7, (1, 5, 1f));

        var region = Assert.Single(RegionExtractor.Extract(map, 700, 140, new RegionSettings(MinArea: 1)));

        Assert.True(Contains(region.Box, (150, 110)), $"box {region.Box} misses (150, 110)");
    }

    [Fact]
    public void Two_separated_spots_give_two_regions_hottest_first()
    {
        var map = Map(7, 7, (1, 1, 0.6f), (5, 5, 1f));

        var regions = RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Relative, 0.3f, MinArea: 1));

        Assert.Equal(2, regions.Count);
        Assert.True(Contains(regions[0].Box, Centre(5, 5)));
        Assert.True(Contains(regions[1].Box, Centre(1, 1)));
        Assert.InRange(regions[0].PeakHeat, 0.95f, 1f);
        Assert.InRange(regions[1].PeakHeat, 0.57f, 0.6f);
    }

    [Fact]
    public void Absolute_threshold_is_in_score_units_relative_is_a_fraction_of_the_peak()
    {
        var map = Map(7, 7, (1, 1, 0.6f), (5, 5, 1f));

        var absolute = RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Absolute, 0.7f, MinArea: 1));
        var relative = RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Relative, 0.5f, MinArea: 1));
        var tooHot = RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Absolute, 1.5f, MinArea: 1));

        Assert.True(Contains(Assert.Single(absolute).Box, Centre(5, 5)));
        Assert.Equal(2, relative.Count);
        Assert.Empty(tooHot);
    }

    [Fact]
    public void Relative_threshold_scales_with_the_maps_units()
    {
        var small = Map(7, 7, (1, 1, 0.6f), (5, 5, 1f));
        // A power of two, so scaling is exact in float and no pixel flips at the threshold by rounding.
        var large = new FloatMap(7, 7, small.Values.Select(v => v * 64f).ToArray());
        var settings = new RegionSettings(ThresholdMode.Relative, 0.5f, MinArea: 1);

        var a = RegionExtractor.Extract(small, Frame, Frame, settings);
        var b = RegionExtractor.Extract(large, Frame, Frame, settings);

        Assert.Equal(a.Select(r => (r.Box, r.Area)), b.Select(r => (r.Box, r.Area)));
    }

    [Theory]
    [InlineData(ThresholdMode.Relative, 0.5f)]
    [InlineData(ThresholdMode.Absolute, 0.1f)]
    public void Cold_maps_have_no_regions(ThresholdMode mode, float threshold)
    {
        var settings = new RegionSettings(mode, threshold, MinArea: 1);
        var zero = Map(7, 7);
        var negative = new FloatMap(7, 7, Enumerable.Range(0, 49).Select(i => -1f - i).ToArray());

        Assert.Empty(RegionExtractor.Extract(zero, Frame, Frame, settings));
        Assert.Empty(RegionExtractor.Extract(negative, Frame, Frame, settings));
    }

    [Fact]
    public void MinArea_drops_small_regions()
    {
        // At 50% of the peak, the 0.55 spot only keeps the pixels right at its centre.
        var map = Map(7, 7, (1, 1, 0.55f), (5, 5, 1f));
        var all = RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Relative, 0.5f, MinArea: 1));
        Assert.Equal(2, all.Count);
        var small = all.Min(r => r.Area);
        var large = all.Max(r => r.Area);
        Assert.True(small < large);

        var kept = RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Relative, 0.5f, MinArea: small + 1));

        Assert.Equal(large, Assert.Single(kept).Area);
    }

    [Fact]
    public void MaxRegions_keeps_the_hottest()
    {
        var map = Map(7, 7, (0, 0, 0.5f), (6, 0, 0.9f), (0, 6, 0.7f), (6, 6, 0.8f), (3, 3, 0.6f));

        var regions = RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Absolute, 0.2f, MinArea: 1, MaxRegions: 2));

        Assert.Equal([0.9f, 0.8f], regions.Select(r => MathF.Round(r.PeakHeat, 3)));
    }

    [Fact]
    public void Mass_shares_are_positive_and_sum_to_at_most_one()
    {
        var map = Map(7, 7, (0, 0, 0.5f), (6, 0, 0.9f), (0, 6, 0.7f), (6, 6, 0.8f), (3, 3, -2f));

        var regions = RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Absolute, 0.2f, MinArea: 1));

        Assert.Equal(4, regions.Count);
        Assert.All(regions, r => Assert.InRange(r.MassShare, float.Epsilon, 1f));
        Assert.InRange(regions.Sum(r => r.MassShare), 0.5f, 1f + 1e-5f);
    }

    [Fact]
    public void Uniformly_hot_map_is_one_region_covering_the_frame()
    {
        var map = new FloatMap(7, 7, Enumerable.Repeat(2f, 49).ToArray());

        var region = Assert.Single(RegionExtractor.Extract(map, 300, 200, new RegionSettings()));

        Assert.Equal(new Box(0, 0, 300, 200), region.Box);
        Assert.Equal(300 * 200, region.Area);
        Assert.Equal(1f, region.MassShare, 1e-5f);
        Assert.Equal(2f, region.MeanHeat, 1e-5f);
    }

    [Fact]
    public void At_frame_resolution_threshold_is_inclusive_and_diagonals_connect()
    {
        // The map is already frame-sized, so resizing is the identity and every pixel is checked exactly.
        float[] values =
        [
            0, 0, 0, 0, 0, 0,
            0, 4, 0, 0, 0, 0,
            0, 0, 2, 0, 0, 0,
            0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 1.99f, 0,
            0, 0, 0, 0, 0, 0,
        ];

        var region = Assert.Single(RegionExtractor.Extract(new FloatMap(6, 6, values), 6, 6, new RegionSettings(ThresholdMode.Relative, 0.5f, MinArea: 1)));

        Assert.Equal(new Box(1, 1, 2, 2), region.Box);
        Assert.Equal(2, region.Area);
        Assert.Equal(4f, region.PeakHeat);
        Assert.Equal(3f, region.MeanHeat, 1e-6f);
        Assert.Equal(6f / 7.99f, region.MassShare, 1e-5f);
    }

    [Fact]
    public void Invalid_settings_or_map_are_rejected()
    {
        var map = Map(7, 7, (3, 3, 1f));

        Assert.Throws<ArgumentException>(() => RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(ThresholdMode.Relative, 1.5f)));
        Assert.Throws<ArgumentException>(() => RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(MinArea: 0)));
        Assert.Throws<ArgumentException>(() => RegionExtractor.Extract(map, Frame, Frame, new RegionSettings(MaxRegions: 0)));
        Assert.Throws<ArgumentException>(() => RegionExtractor.Extract(new FloatMap(7, 7, new float[48]), Frame, Frame, new RegionSettings()));
        Assert.Throws<ArgumentException>(() => RegionExtractor.Extract(map, 0, Frame, new RegionSettings()));
        var nan = Map(7, 7, (3, 3, float.NaN));
        Assert.Throws<ArgumentException>(() => RegionExtractor.Extract(nan, Frame, Frame, new RegionSettings()));
    }
}
