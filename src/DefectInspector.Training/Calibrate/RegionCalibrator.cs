using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Core.Statistics;
using DefectInspector.Training.Evaluate;

namespace DefectInspector.Training.Calibrate;

/// <summary>
/// The absolute region threshold, in raw CAM units, from the heat of good validation images, so that a region
/// means "hotter than any good part". The threshold sits just above a quantile of the good images' peak heats
/// (by default the hottest). Peaks rather than a percentile of all good pixels: a 99.9th pixel percentile leaves
/// 0.1% of every good frame above threshold, a thousand pixels at a megapixel, enough to make a region on
/// most good parts. A quantile of per-image peaks instead bounds the share of good images that get any region.
/// </summary>
public static class RegionCalibrator
{
    /// <summary>Calibrates on the <see cref="ImageOutcome.FrameHeat"/> of the good images among <paramref name="validation"/>.</summary>
    public static RegionSettings Calibrate(IReadOnlyList<ImageOutcome> validation, double peakQuantile = 1.0, int minArea = 16, int maxRegions = 10)
    {
        ArgumentNullException.ThrowIfNull(validation);
        var goods = validation.Where(o => !o.IsDefect).ToList();
        var maps = goods.Where(o => o.FrameHeat is not null).Select(o => o.FrameHeat!).ToList();
        if (maps.Count == 0)
        {
            throw new CalibrationException(
                $"region threshold: needs good validation images with heatmaps; got {goods.Count} good images of {validation.Count}, none with a heatmap");
        }

        return Calibrate(maps, peakQuantile, minArea, maxRegions);
    }

    /// <summary>
    /// <paramref name="goodHeat"/> are maps of good parts in raw score units, either at frame size as regions are
    /// extracted (exact) or at feature resolution (whose peaks bilinear resizing cannot exceed, so the threshold
    /// only errs high). <paramref name="peakQuantile"/> in (0, 1]: 1 is the hottest good image's peak; 0.99 lets the
    /// hottest 1% of good images keep regions, for validation sets that may hold a mislabelled part.
    /// </summary>
    public static RegionSettings Calibrate(IEnumerable<FloatMap> goodHeat, double peakQuantile = 1.0, int minArea = 16, int maxRegions = 10)
    {
        ArgumentNullException.ThrowIfNull(goodHeat);
        if (peakQuantile is not (> 0 and <= 1))
            throw new ArgumentException($"region peak quantile {peakQuantile}: expected a fraction in (0, 1]");

        var peaks = goodHeat.Select(Peak).ToArray();
        if (peaks.Length == 0)
            throw new CalibrationException("region threshold: needs at least one good validation heatmap; got none");
        Array.Sort(peaks);

        // Nearest rank, so the threshold is a peak that was seen rather than an interpolation.
        var rank = Percentiles.NearestRank(peaks.Length, peakQuantile);
        // Regions take heat >= threshold, so the next float up keeps that good peak itself out.
        var settings = new RegionSettings(ThresholdMode.Absolute, MathF.BitIncrement(peaks[rank]), minArea, maxRegions);
        settings.Validate();
        return settings;
    }

    private static float Peak(FloatMap map)
    {
        if (map.Values is not { Length: > 0 } values || values.Length != map.Width * map.Height)
            throw new ArgumentException($"good heatmap {map.Width}x{map.Height} with {map.Values?.Length ?? 0} values: expected a non-empty map with width x height values");
        if (!values.All(float.IsFinite))
            throw new ArgumentException("good heatmap contains NaN or infinite values: expected finite scores");
        return values.Max();
    }
}
