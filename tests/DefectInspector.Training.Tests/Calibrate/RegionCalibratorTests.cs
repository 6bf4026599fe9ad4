using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Training.Calibrate;
using DefectInspector.Training.Evaluate;
using DefectInspector.Vision.Regions;
using static DefectInspector.Training.Tests.Outcomes;

namespace DefectInspector.Training.Tests.Calibrate;

public sealed class RegionCalibratorTests
{
    /// <summary>A cold 7x7 feature map (-1 everywhere) with one cell at <paramref name="peak"/>.</summary>
    private static FloatMap Raw(float peak, int x = 3, int y = 3)
    {
        var values = Enumerable.Repeat(-1f, 49).ToArray();
        values[y * 7 + x] = peak;
        return new FloatMap(7, 7, values);
    }

    [Fact]
    public void Default_threshold_sits_just_above_the_hottest_good_part()
    {
        var settings = RegionCalibrator.Calibrate([Raw(1f), Raw(3f), Raw(2f)], minArea: 9, maxRegions: 4);

        Assert.Equal(new RegionSettings(ThresholdMode.Absolute, MathF.BitIncrement(3f), 9, 4), settings);
        Assert.True(settings.Threshold > 3f);
    }

    [Theory]
    [InlineData(0.5, 2f)] // nearest rank: the 2nd of 4 peaks
    [InlineData(0.6, 3f)] // 2.4 rounds up to the 3rd
    [InlineData(0.75, 3f)]
    [InlineData(1.0, 4f)]
    public void Peak_quantile_picks_a_seen_peak_by_nearest_rank(double quantile, float peak)
    {
        var settings = RegionCalibrator.Calibrate([Raw(4f), Raw(1f), Raw(3f), Raw(2f)], quantile);

        Assert.Equal(MathF.BitIncrement(peak), settings.Threshold);
    }

    [Fact]
    public void Calibrated_threshold_gives_no_region_on_any_good_part_but_one_on_a_hotter_defect()
    {
        FloatMap[] goods = [Raw(2f, 1, 1), Raw(2.5f, 5, 2), Raw(1.2f, 3, 6)];
        var settings = RegionCalibrator.Calibrate(goods) with { MinArea = 1 };

        foreach (var good in goods)
            Assert.Empty(RegionExtractor.Extract(good, 224, 224, settings));
        Assert.Single(RegionExtractor.Extract(Raw(4f, 2, 2), 224, 224, settings));
    }

    [Fact]
    public void Cold_good_parts_give_a_negative_threshold()
    {
        var settings = RegionCalibrator.Calibrate([Raw(-0.5f), Raw(-0.25f)]);

        Assert.Equal(MathF.BitIncrement(-0.25f), settings.Threshold);
    }

    [Fact]
    public void Outcomes_overload_uses_only_good_images_with_heat()
    {
        ImageOutcome[] validation =
        [
            Of("g1.png", "good", 0.1f, heat: Heat(8, 8, 1.5f, (2, 2))),
            Of("g2.png", "good", 0.1f), // not explained
            Of("d.png", "crack", 0.9f, heat: Heat(8, 8, 50f, (2, 2))),
        ];

        Assert.Equal(MathF.BitIncrement(1.5f), RegionCalibrator.Calibrate(validation).Threshold);
    }

    [Fact]
    public void No_good_heat_is_refused_with_the_counts()
    {
        ImageOutcome[] validation = [Of("g.png", "good", 0.1f), Of("d.png", "crack", 0.9f, heat: Heat(8, 8))];

        var e = Assert.Throws<CalibrationException>(() => RegionCalibrator.Calibrate(validation));

        Assert.Contains("1 good images of 2, none with a heatmap", e.Message);
        Assert.Throws<CalibrationException>(() => RegionCalibrator.Calibrate(Array.Empty<FloatMap>()));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void Quantile_outside_zero_to_one_is_refused(double quantile)
    {
        Assert.Throws<ArgumentException>(() => RegionCalibrator.Calibrate([Raw(1f)], quantile));
    }

    [Fact]
    public void Non_finite_heat_is_refused()
    {
        Assert.Throws<ArgumentException>(() => RegionCalibrator.Calibrate([Raw(float.NaN)]));
    }
}
