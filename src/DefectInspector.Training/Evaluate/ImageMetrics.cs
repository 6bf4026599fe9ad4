namespace DefectInspector.Training.Evaluate;

/// <summary>
/// Image-level metrics over parallel arrays of defect scores and labels (true = defective, the positive class).
/// A part is NG when its score is at or above the threshold, as at inspection time.
/// </summary>
public static class ImageMetrics
{
    /// <summary>
    /// Area under the ROC curve as the Mann-Whitney statistic: the chance that a random defective image outscores
    /// a random good one, ties counted half. Throws when either class is absent: the AUROC is undefined then, and
    /// an exception cannot be averaged into a report the way a NaN silently would.
    /// </summary>
    public static double Auroc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect)
    {
        var (sorted, labels) = SortedAscending(scores, isDefect);
        var (positives, negatives) = Count(labels);
        RequireBothClasses(positives, negatives, "AUROC");

        // Mid-ranks give each tied group the average of the ranks it spans, which is what counts a tie as half.
        double positiveRankSum = 0;
        for (var start = 0; start < sorted.Length;)
        {
            var end = EndOfTies(sorted, start);
            var midRank = (start + 1 + end) / 2.0;
            for (var i = start; i < end; i++)
                if (labels[i])
                    positiveRankSum += midRank;
            start = end;
        }

        var u = positiveRankSum - positives * (positives + 1.0) / 2.0;
        return u / ((double)positives * negatives);
    }

    /// <summary>
    /// Average precision as scikit-learn defines it: sum over distinct thresholds, highest first, of
    /// (R_n - R_{n-1}) P_n. Step-wise, not interpolated, so it never flatters a ranking. Throws without defects.
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect)
    {
        double sum = 0, previousRecall = 0;
        foreach (var p in PrCurve(scores, isDefect))
        {
            sum += (p.Recall - previousRecall) * p.Precision;
            previousRecall = p.Recall;
        }

        return sum;
    }

    /// <summary>
    /// ROC points from the origin (nothing flagged, null threshold) through each distinct score, highest first,
    /// ending at (1, 1). Throws when either class is absent.
    /// </summary>
    public static IReadOnlyList<RocPoint> RocCurve(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect)
    {
        var (sorted, labels) = SortedAscending(scores, isDefect);
        var (positives, negatives) = Count(labels);
        RequireBothClasses(positives, negatives, "ROC curve");

        var points = new List<RocPoint> { new(0, 0, null) };
        foreach (var (threshold, tp, fp) in DescendingCumulative(sorted, labels))
            points.Add(new RocPoint((double)fp / negatives, (double)tp / positives, threshold));
        return points;
    }

    /// <summary>Precision-recall points at each distinct score, highest first. Throws without defects.</summary>
    public static IReadOnlyList<PrPoint> PrCurve(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect)
    {
        var (sorted, labels) = SortedAscending(scores, isDefect);
        var (positives, _) = Count(labels);
        if (positives == 0)
            throw new ArgumentException($"precision-recall needs at least one defective image: got {labels.Length} good images and none defective");

        var points = new List<PrPoint>();
        foreach (var (threshold, tp, fp) in DescendingCumulative(sorted, labels))
            points.Add(new PrPoint((double)tp / positives, (double)tp / (tp + fp), threshold));
        return points;
    }

    /// <summary>Counts at <paramref name="threshold"/>: score >= threshold is NG.</summary>
    public static ConfusionCounts Confusion(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect, float threshold)
    {
        Validate(scores, isDefect);
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var ng = scores[i] >= threshold;
            if (isDefect[i])
            {
                if (ng) tp++;
                else fn++;
            }
            else if (ng) fp++;
            else tn++;
        }

        return new ConfusionCounts(tp, fp, tn, fn);
    }

    /// <summary>
    /// Recall and escape rate per defect kind (<see cref="ImageOutcome.Kind"/>, compared ignoring case), ordered by
    /// kind. Good images form no row; they are the negatives of each kind's AUROC.
    /// </summary>
    public static IReadOnlyList<KindMetrics> PerKind(IReadOnlyList<ImageOutcome> outcomes, float threshold)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var goodScores = outcomes.Where(o => !o.IsDefect).Select(o => o.DefectScore).ToArray();
        RequireFinite(goodScores);

        return outcomes.Where(o => o.IsDefect)
            .GroupBy(o => o.Kind, StringComparer.OrdinalIgnoreCase)
            .OrderBy(g => g.Key, StringComparer.OrdinalIgnoreCase)
            .Select(g => KindRow(g.Key, g.Select(o => o.DefectScore).ToArray(), goodScores, threshold))
            .ToList();
    }

    private static KindMetrics KindRow(string kind, float[] defectScores, float[] goodScores, float threshold)
    {
        RequireFinite(defectScores);
        var detected = defectScores.Count(s => s >= threshold);
        var recall = (double)detected / defectScores.Length;
        double? auroc = null;
        if (goodScores.Length > 0)
        {
            var scores = defectScores.Concat(goodScores).ToArray();
            var labels = scores.Select((_, i) => i < defectScores.Length).ToArray();
            auroc = Auroc(scores, labels);
        }

        return new KindMetrics(kind, defectScores.Length, detected, recall, 1 - recall, defectScores.Average(s => (double)s), auroc);
    }

    /// <summary>(threshold, TP, FP) at each distinct score, highest first: everything at or above it is NG.</summary>
    private static IEnumerable<(float Threshold, int TruePositives, int FalsePositives)> DescendingCumulative(float[] sorted, bool[] labels)
    {
        int tp = 0, fp = 0;
        for (var end = sorted.Length; end > 0;)
        {
            var start = StartOfTies(sorted, end);
            for (var i = start; i < end; i++)
            {
                if (labels[i]) tp++;
                else fp++;
            }

            yield return (sorted[start], tp, fp);
            end = start;
        }
    }

    private static (float[] Scores, bool[] Labels) SortedAscending(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect)
    {
        Validate(scores, isDefect);
        var sorted = scores.ToArray();
        var labels = isDefect.ToArray();
        Array.Sort(sorted, labels);
        return (sorted, labels);
    }

    private static void Validate(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect)
    {
        if (scores.Length != isDefect.Length)
            throw new ArgumentException($"{scores.Length} scores for {isDefect.Length} labels: expected one label per score");
        RequireFinite(scores);
    }

    private static void RequireFinite(ReadOnlySpan<float> scores)
    {
        foreach (var s in scores)
            if (!float.IsFinite(s))
                throw new ArgumentException($"score {s}: expected finite scores (a NaN has no place in a ranking)");
    }

    private static (int Positives, int Negatives) Count(bool[] labels)
    {
        var positives = labels.Count(l => l);
        return (positives, labels.Length - positives);
    }

    private static void RequireBothClasses(int positives, int negatives, string metric)
    {
        if (positives == 0 || negatives == 0)
            throw new ArgumentException($"{metric} needs defective and good images: got {positives} defective and {negatives} good");
    }

    private static int EndOfTies(float[] sorted, int start)
    {
        var end = start + 1;
        while (end < sorted.Length && sorted[end] == sorted[start])
            end++;
        return end;
    }

    private static int StartOfTies(float[] sorted, int end)
    {
        var start = end - 1;
        while (start > 0 && sorted[start - 1] == sorted[end - 1])
            start--;
        return start;
    }
}
