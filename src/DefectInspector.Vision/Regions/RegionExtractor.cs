using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Vision.Imaging;
using OpenCvSharp;

namespace DefectInspector.Vision.Regions;

/// <summary>Turns a raw class activation map into ranked defect regions in frame pixels.</summary>
public static class RegionExtractor
{
    /// <summary>
    /// <paramref name="rawMap"/> is at feature resolution in score units. It is resized bilinearly to the
    /// frame, thresholded (>=) per <paramref name="settings"/>, and split into 8-connected components. Components
    /// smaller than MinArea are dropped; the rest are sorted by peak heat, hottest first, at most MaxRegions.
    /// </summary>
    public static IReadOnlyList<Region> Extract(FloatMap rawMap, int frameWidth, int frameHeight, RegionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        ArgumentNullException.ThrowIfNull(rawMap);
        // Bilinear resizing would smear one NaN over its neighbours, and no threshold is meaningful against it.
        if (rawMap.Values is not null && !rawMap.Values.All(float.IsFinite))
            throw new ArgumentException("raw heatmap contains NaN or infinite values: expected finite scores", nameof(rawMap));
        using var heat = MapMats.ResizedTo(rawMap, frameWidth, frameHeight, "raw heatmap");

        var cut = Cutoff(heat, settings);
        if (cut is null)
            return [];

        // InRange is inclusive at both ends, giving heat >= cut; it is also far faster here than Compare with a scalar.
        using var mask = new Mat();
        Cv2.InRange(heat, new Scalar(cut.Value), new Scalar(double.PositiveInfinity), mask);

        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(mask, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
        if (count <= 1)
            return [];

        return Describe(heat.AsSpan<float>(), labels.AsSpan<int>(), stats, count)
            .Where(r => r.Area >= settings.MinArea)
            .OrderByDescending(r => r.PeakHeat)
            .Take(settings.MaxRegions)
            .ToList();
    }

    /// <summary>The heat a pixel needs to be inside a region; null when no pixel can qualify.</summary>
    private static float? Cutoff(Mat heat, RegionSettings settings)
    {
        if (settings.Mode == ThresholdMode.Absolute)
            return settings.Threshold;

        // A map with no positive heat has no defect evidence; a fraction of a non-positive peak would select
        // the least-negative (i.e. coldest-looking) pixels as "hot".
        Cv2.MinMaxLoc(heat, out _, out double peak);
        return peak > 0 ? (float)(settings.Threshold * peak) : null;
    }

    private static unsafe List<Region> Describe(ReadOnlySpan<float> values, ReadOnlySpan<int> labels, Mat stats, int count)
    {
        var peak = new float[count];
        var sum = new double[count];
        var positive = new double[count];
        Array.Fill(peak, float.NegativeInfinity);
        double totalPositive = 0;
        // One pass over the frame with raw pointers: at camera resolution this loop is the extractor's main cost.
        fixed (float* heat = values)
        fixed (int* label = labels)
        {
            for (var i = 0; i < values.Length; i++)
            {
                var v = heat[i];
                if (v > 0)
                    totalPositive += v;
                var l = label[i];
                if (l == 0)
                    continue;
                sum[l] += v;
                if (v > 0)
                    positive[l] += v;
                if (v > peak[l])
                    peak[l] = v;
            }
        }

        var statValues = stats.AsSpan<int>();
        var columns = stats.Cols;
        var regions = new List<Region>(count - 1);
        for (var label = 1; label < count; label++)
        {
            var s = statValues.Slice(label * columns, columns);
            var area = s[(int)ConnectedComponentsTypes.Area];
            var box = new Box(s[(int)ConnectedComponentsTypes.Left], s[(int)ConnectedComponentsTypes.Top],
                s[(int)ConnectedComponentsTypes.Width], s[(int)ConnectedComponentsTypes.Height]);
            var share = totalPositive > 0 ? (float)(positive[label] / totalPositive) : 0f;
            regions.Add(new Region(box, area, peak[label], (float)(sum[label] / area), share));
        }

        return regions;
    }
}
