using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;

namespace DefectInspector.Training.Evaluate;

/// <summary>
/// Localisation quality from <see cref="ImageOutcome.FrameHeat"/>, <see cref="ImageOutcome.Regions"/> and
/// <see cref="ImageOutcome.Mask"/>, all in frame pixels. Images without heat were not explained, so their (empty)
/// region lists say nothing and they are left out. A good image's pixels are all negatives, whatever its mask says.
/// </summary>
public static class LocalisationMetrics
{
    public static LocalisationSummary Compute(IReadOnlyList<ImageOutcome> outcomes, LocalisationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        options ??= new LocalisationOptions();
        options.Validate();

        var scored = new List<(FloatMap Heat, bool[] Mask)>();
        var perKind = new SortedDictionary<string, KindLocalisation>(StringComparer.Ordinal);
        var goods = new List<(FloatMap Heat, IReadOnlyList<Region> Regions)>();
        int withoutHeat = 0, emptyMask = 0, withoutMask = 0;
        int pointingHits = 0, regionHits = 0;
        double iouSum = 0;
        foreach (var o in outcomes)
        {
            if (o.FrameHeat is not { } heat)
            {
                withoutHeat++;
                continue;
            }

            CheckShapes(o, heat);
            if (!o.IsDefect)
            {
                goods.Add((heat, o.Regions));
                continue;
            }

            if (o.Mask is not { } mask)
            {
                withoutMask++;
                continue;
            }

            if (!mask.Contains(true))
            {
                emptyMask++;
                continue;
            }

            scored.Add((heat, mask));
            bool points = PeakDistance(heat, mask) <= options.PointingRadius;
            bool regionHit = o.Regions.Any(r => BoxTouchesMask(r.Box, mask, heat.Width, heat.Height));
            double iou = BoxUnionIou(o.Regions, mask, heat.Width, heat.Height);
            if (points) pointingHits++;
            if (regionHit) regionHits++;
            iouSum += iou;
            var kind = perKind.GetValueOrDefault(o.Kind) ?? new KindLocalisation(o.Kind, 0, 0, 0, 0);
            perKind[o.Kind] = kind.With(points, regionHit, iou);
        }

        var goodWithRegions = goods.Count(g => g.Regions.Count > 0);
        var pixels = PixelSample.Draw(scored, goods.Select(g => g.Heat).ToList(), options.MaxPixels);
        return new LocalisationSummary
        {
            DefectImagesScored = scored.Count,
            DefectImagesWithEmptyMask = emptyMask,
            DefectImagesWithoutMask = withoutMask,
            ImagesWithoutHeat = withoutHeat,
            GoodImagesScored = goods.Count,
            PixelAuroc = pixels.HasBothClasses ? ImageMetrics.Auroc(pixels.Heat, pixels.IsDefect) : null,
            PixelsTotal = pixels.Total,
            PixelsSampled = pixels.Heat.Length,
            PointingRadius = options.PointingRadius,
            PointingHits = pointingHits,
            PointingGame = Rate(pointingHits, scored.Count),
            RegionHits = regionHits,
            RegionRecall = Rate(regionHits, scored.Count),
            GoodImagesWithRegions = goodWithRegions,
            FalseRegionRate = Rate(goodWithRegions, goods.Count),
            MeanRegionsPerGoodImage = goods.Count == 0 ? null : goods.Average(g => (double)g.Regions.Count),
            MeanRegionIou = scored.Count == 0 ? null : iouSum / scored.Count,
            PerKind = perKind.Values.ToList(),
        };
    }

    /// <summary>
    /// Frame pixels (Euclidean, centre to centre) from the hottest pixel of <paramref name="heat"/> (the first in
    /// row-major order on ties) to the nearest defect pixel of <paramref name="mask"/>; infinity when the mask is empty.
    /// </summary>
    public static double PeakDistance(FloatMap heat, bool[] mask)
    {
        ArgumentNullException.ThrowIfNull(heat);
        ArgumentNullException.ThrowIfNull(mask);
        var (px, py) = Peak(heat);
        long best = long.MaxValue;
        for (var i = 0; i < mask.Length; i++)
        {
            if (!mask[i]) continue;
            long dx = i % heat.Width - px, dy = i / heat.Width - py;
            best = Math.Min(best, dx * dx + dy * dy);
        }
        return best == long.MaxValue ? double.PositiveInfinity : Math.Sqrt(best);
    }

    /// <summary>The hottest pixel of <paramref name="heat"/>, the first in row-major order on ties.</summary>
    public static (int X, int Y) Peak(FloatMap heat)
    {
        ArgumentNullException.ThrowIfNull(heat);
        var peak = 0;
        for (var i = 1; i < heat.Values.Length; i++)
            if (heat.Values[i] > heat.Values[peak])
                peak = i;
        return (peak % heat.Width, peak / heat.Width);
    }

    private static bool BoxTouchesMask(Box box, bool[] mask, int width, int height)
    {
        var (x0, y0, x1, y1) = Clip(box, width, height);
        for (var y = y0; y < y1; y++)
            for (var x = x0; x < x1; x++)
                if (mask[y * width + x])
                    return true;
        return false;
    }

    private static double BoxUnionIou(IReadOnlyList<Region> regions, bool[] mask, int width, int height)
    {
        var covered = new bool[mask.Length];
        foreach (var r in regions)
        {
            var (x0, y0, x1, y1) = Clip(r.Box, width, height);
            for (var y = y0; y < y1; y++)
                Array.Fill(covered, true, y * width + x0, x1 - x0);
        }

        long intersection = 0, union = 0;
        for (var i = 0; i < mask.Length; i++)
        {
            if (covered[i] && mask[i]) intersection++;
            if (covered[i] || mask[i]) union++;
        }

        // The scored images have a non-empty mask, so the union is never empty.
        return (double)intersection / union;
    }

    private static (int X0, int Y0, int X1, int Y1) Clip(Box box, int width, int height)
    {
        int x0 = Math.Clamp(box.X, 0, width), y0 = Math.Clamp(box.Y, 0, height);
        int x1 = Math.Clamp(box.X + box.Width, x0, width), y1 = Math.Clamp(box.Y + box.Height, y0, height);
        return (x0, y0, x1, y1);
    }

    private static void CheckShapes(ImageOutcome o, FloatMap heat)
    {
        if (heat.Width < 1 || heat.Height < 1 || heat.Values is null || heat.Values.Length != heat.Width * heat.Height)
            throw new ArgumentException($"{o.Path}: frame heat {heat.Width}x{heat.Height} with {heat.Values?.Length ?? 0} values: expected width x height values");
        if (!heat.Values.All(float.IsFinite))
            throw new ArgumentException($"{o.Path}: frame heat contains NaN or infinite values: expected finite scores");
        if (o.Mask is { } mask && mask.Length != heat.Values.Length)
            throw new ArgumentException($"{o.Path}: mask has {mask.Length} pixels for a {heat.Width}x{heat.Height} frame heatmap: expected the frame size");
    }

    private static double? Rate(int count, int of) => of == 0 ? null : (double)count / of;
}
