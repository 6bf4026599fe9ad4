using DefectInspector.Core.Explain;

namespace DefectInspector.Training.Evaluate;

/// <summary>
/// The pixels the pixel AUROC ranks: every pixel of the scored defective images (mask = label) and of the good
/// images (all negative). A test set at camera resolution holds hundreds of millions of pixels, and the AUROC sorts
/// what it gets, so above <c>maxPixels</c> each pixel is kept with probability maxPixels / total: about maxPixels
/// pixels, spread evenly over images and classes. The draw hashes the pixel's running index with a fixed seed, so
/// the same outcomes in the same order always give the same sample, and no stride can alias with image rows.
/// </summary>
internal sealed record PixelSample(float[] Heat, bool[] IsDefect, long Total)
{
    private const ulong Seed = 0x5EED_D1F3_C7A5_0001UL;

    public bool HasBothClasses => IsDefect.Contains(true) && IsDefect.Contains(false);

    public static PixelSample Draw(IReadOnlyList<(FloatMap Heat, bool[] Mask)> defective, IReadOnlyList<FloatMap> good, int maxPixels)
    {
        var total = defective.Sum(d => (long)d.Heat.Values.Length) + good.Sum(g => (long)g.Values.Length);
        var keepAll = total <= maxPixels;
        // Compared on the top 53 bits of the hash, as a fraction of 2^53.
        var cutoff = keepAll ? ulong.MaxValue : (ulong)((double)maxPixels / total * (1UL << 53));
        var capacity = (int)Math.Min(total, maxPixels + maxPixels / 50 + 1024);
        var heat = new List<float>(capacity);
        var labels = new List<bool>(capacity);

        long index = 0;
        void Add(float[] values, bool[]? mask)
        {
            for (var i = 0; i < values.Length; i++, index++)
            {
                if (!keepAll && (SplitMix64((ulong)index ^ Seed) >> 11) >= cutoff)
                    continue;
                heat.Add(values[i]);
                labels.Add(mask is not null && mask[i]);
            }
        }

        foreach (var (h, mask) in defective)
            Add(h.Values, mask);
        foreach (var g in good)
            Add(g.Values, null);
        return new PixelSample(heat.ToArray(), labels.ToArray(), total);
    }

    private static ulong SplitMix64(ulong value)
    {
        var z = value + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133EB111UL;
        return z ^ (z >> 31);
    }
}
