using System.Globalization;
using DefectInspector.Core.Decision;
using DefectInspector.Training.Evaluate;

namespace DefectInspector.Training.Calibrate;

/// <summary>
/// Chooses the decision threshold on validation scores for a <see cref="ThresholdGoal"/>, and the uncertain margin
/// around it from an operator review budget. Scores are defect scores; labels are true for defective images.
/// </summary>
public static class ThresholdCalibrator
{
    /// <summary>Thresholds are kept inside [0.001, 0.999]: a bundle's threshold must lie strictly within (0, 1).</summary>
    public const float MinThreshold = 0.001f;

    public const float MaxThreshold = 0.999f;

    /// <summary>The largest margin <see cref="DecisionThresholds.Validate"/> accepts is just under 0.5.</summary>
    public const float MaxMargin = 0.499f;

    // Rates times counts such as 0.29 * 100 land a hair under the integer they mean.
    private const double CountTolerance = 1e-9;

    public static DecisionThresholds Calibrate(IReadOnlyList<ImageOutcome> validation, ThresholdGoal goal, double reviewFraction = 0)
    {
        ArgumentNullException.ThrowIfNull(validation);
        var scores = validation.Select(o => o.DefectScore).ToArray();
        var labels = validation.Select(o => o.IsDefect).ToArray();
        return Calibrate(scores, labels, goal, reviewFraction);
    }

    /// <summary>
    /// The threshold for <paramref name="goal"/> and a margin that sends at most <paramref name="reviewFraction"/> of
    /// the validation images (both labels) into the uncertain band |score - threshold| &lt;= margin: the margin is the
    /// operator's review capacity spent on the closest calls. 0 gives no band.
    /// </summary>
    public static DecisionThresholds Calibrate(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect, ThresholdGoal goal, double reviewFraction = 0)
    {
        ArgumentNullException.ThrowIfNull(goal);
        if (scores.Length != isDefect.Length)
            throw new ArgumentException($"{scores.Length} scores for {isDefect.Length} labels: expected one label per score");
        foreach (var s in scores)
            if (!float.IsFinite(s))
                throw new ArgumentException($"validation score {s}: expected finite scores");
        if (reviewFraction is not (>= 0 and < 1))
            throw new ArgumentException($"review fraction {reviewFraction}: expected a fraction of validation images in [0, 1)");

        var threshold = goal.Kind switch
        {
            ThresholdGoalKind.EscapeRate => ForEscapeRate(scores, isDefect, goal.Value),
            ThresholdGoalKind.F1 => ForF1(scores, isDefect),
            ThresholdGoalKind.Fixed when goal.Value is > 0 and < 1 => Clamp((float)goal.Value),
            _ => throw new ArgumentException($"threshold goal {goal}: a fixed threshold must be a probability strictly between 0 and 1"),
        };
        var result = new DecisionThresholds(threshold, Margin(scores, threshold, reviewFraction));
        result.Validate();
        return result;
    }

    /// <summary>
    /// The highest threshold that misses at most floor(rate x defects) validation defects: the score of the lowest
    /// defect that must still be caught. Highest, because every lower threshold with the same escapes only rejects
    /// more good parts.
    /// </summary>
    private static float ForEscapeRate(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect, double rate)
    {
        var defects = Select(scores, isDefect, defect: true);
        if (defects.Length == 0)
            throw new CalibrationException($"escape={Format(rate)}: the validation set has no defective images, so no escape rate can be measured");
        Array.Sort(defects);

        var allowedMisses = Math.Min((int)Math.Floor(rate * defects.Length + CountTolerance), defects.Length - 1);
        var wanted = defects[allowedMisses];
        var threshold = Clamp(wanted);
        var misses = defects.Count(d => d < threshold);
        if (misses > allowedMisses)
        {
            throw new CalibrationException(
                $"escape={Format(rate)}: catching enough validation defects needs a threshold of {Format(wanted)}, below the smallest allowed {Format(MinThreshold)}; " +
                $"{misses} of {defects.Length} defective validation images score under it. Allow a higher escape rate or improve the model on those images");
        }

        return threshold;
    }

    /// <summary>
    /// The threshold with the best validation F1. Every threshold between two neighbouring scores gives the same
    /// F1, so the midpoint of the best gap is taken, leaving room on both sides; on equal F1 the lower gap wins,
    /// as it lets fewer defects escape.
    /// </summary>
    private static float ForF1(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect)
    {
        var sorted = scores.ToArray();
        var labels = isDefect.ToArray();
        var positives = labels.Count(l => l);
        if (positives == 0)
            throw new CalibrationException("f1: the validation set has no defective images, so F1 is undefined");
        Array.Sort(sorted, labels);

        // Walking up the distinct scores: at sorted[start] everything from start on is NG.
        int tp = positives, fp = labels.Length - positives;
        double bestF1 = -1;
        var bestStart = 0;
        for (var start = 0; start < sorted.Length;)
        {
            var f1 = 2.0 * tp / (tp + positives + fp);
            if (f1 > bestF1)
                (bestF1, bestStart) = (f1, start);

            var end = start;
            for (; end < sorted.Length && sorted[end] == sorted[start]; end++)
            {
                if (labels[end]) tp--;
                else fp--;
            }

            start = end;
        }

        var upper = sorted[bestStart];
        if (bestStart == 0)
            return Clamp(upper);
        var lower = sorted[bestStart - 1];
        var mid = (float)((lower + (double)upper) / 2);
        // Neighbouring floats have no float between them; the midpoint would round onto the lower score and flag it.
        return Clamp(mid > lower ? mid : upper);
    }

    /// <summary>
    /// The widest margin that puts at most floor(fraction x images) validation images within it of the threshold,
    /// taken halfway between the distances of the last image allowed in and the first kept out.
    /// </summary>
    private static float Margin(ReadOnlySpan<float> scores, float threshold, double fraction)
    {
        var allowed = (int)Math.Floor(fraction * scores.Length + CountTolerance);
        if (allowed == 0)
            return 0f;
        if (allowed >= scores.Length)
            return MaxMargin;

        var distances = new double[scores.Length];
        for (var i = 0; i < scores.Length; i++)
            distances[i] = Math.Abs(scores[i] - (double)threshold);
        Array.Sort(distances);

        var firstOut = distances[allowed];
        var lastIn = -1;
        for (var i = allowed - 1; i >= 0 && lastIn < 0; i--)
            if (distances[i] < firstOut)
                lastIn = i;
        if (lastIn < 0)
            return 0f; // Ties at the closest distance: any band would take in more images than allowed.

        var margin = (float)((distances[lastIn] + firstOut) / 2);
        // Rounding to float must not stretch the band onto the first image kept out.
        if (margin >= firstOut)
            margin = (float)distances[lastIn];
        return Math.Min(margin, MaxMargin);
    }

    private static float[] Select(ReadOnlySpan<float> scores, ReadOnlySpan<bool> isDefect, bool defect)
    {
        var selected = new List<float>();
        for (var i = 0; i < scores.Length; i++)
            if (isDefect[i] == defect)
                selected.Add(scores[i]);
        return selected.ToArray();
    }

    private static float Clamp(float t) => Math.Clamp(t, MinThreshold, MaxThreshold);

    private static string Format(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
}
