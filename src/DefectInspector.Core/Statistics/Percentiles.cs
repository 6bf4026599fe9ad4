namespace DefectInspector.Core.Statistics;

/// <summary>Nearest-rank quantiles: the answer is always a value that was seen, never an interpolation.</summary>
public static class Percentiles
{
    /// <summary>
    /// Index of the <paramref name="q"/> quantile in an ascending list of <paramref name="count"/> values. The small
    /// tolerance keeps q * count products such as 0.99 * 100 = 99.00000000000001 from rounding up a whole rank.
    /// </summary>
    public static int NearestRank(int count, double q) => Math.Clamp((int)Math.Ceiling(q * count - 1e-9) - 1, 0, count - 1);

    /// <summary>The <paramref name="q"/> quantile of ascending <paramref name="sorted"/>; NaN when empty.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[NearestRank(sorted.Count, q)];
}
