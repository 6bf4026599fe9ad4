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
        using var heat = MapMats.ResizedTo(rawMap, frameWidth, frameHeight, "raw heatmap");
        var values = heat.AsSpan<float>();

        var cut = Cutoff(values, settings);
        if (cut is null)
            return [];

        using var mask = new Mat(frameHeight, frameWidth, MatType.CV_8UC1);
        var maskBytes = mask.AsSpan<byte>();
        for (var i = 0; i < values.Length; i++)
            maskBytes[i] = values[i] >= cut.Value ? (byte)255 : (byte)0;

        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(mask, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
        if (count <= 1)
            return [];

        return Describe(values, labels.AsSpan<int>(), stats, count)
            .Where(r => r.Area >= settings.MinArea)
            .OrderByDescending(r => r.PeakHeat)
            .Take(settings.MaxRegions)
            .ToList();
    }

    /// <summary>The heat a pixel needs to be inside a region; null when no pixel can qualify.</summary>
    private static float? Cutoff(ReadOnlySpan<float> values, RegionSettings settings)
    {
        if (settings.Mode == ThresholdMode.Absolute)
            return settings.Threshold;

        // A map with no positive heat has no defect evidence; a fraction of a non-positive peak would select
        // the least-negative (i.e. coldest-looking) pixels as "hot".
        var peak = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (v > peak)
                peak = v;
        }

        return peak > 0 ? settings.Threshold * peak : null;
    }

    private static List<Region> Describe(ReadOnlySpan<float> values, ReadOnlySpan<int> labels, Mat stats, int count)
    {
        var peak = new float[count];
        var sum = new double[count];
        var positive = new double[count];
        Array.Fill(peak, float.NegativeInfinity);
        double totalPositive = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            var label = labels[i];
            if (v > 0)
            {
                totalPositive += v;
                positive[label] += v;
            }

            if (label == 0)
                continue;
            sum[label] += v;
            if (v > peak[label])
                peak[label] = v;
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
