using DefectInspector.Core.Decision;
using DefectInspector.Training.Calibrate;
using DefectInspector.Training.Evaluate;

namespace DefectInspector.Training.Tests.Calibrate;

public sealed class ThresholdCalibratorTests
{
    private static readonly ThresholdGoal F1 = new(ThresholdGoalKind.F1);

    private static ThresholdGoal Escape(double rate) => new(ThresholdGoalKind.EscapeRate, rate);

    // Overlapping classes: defects 0.3 .. 0.95, goods 0.05 .. 0.6.
    private static readonly float[] Scores = [0.05f, 0.1f, 0.2f, 0.35f, 0.6f, 0.3f, 0.5f, 0.7f, 0.9f, 0.95f];
    private static readonly bool[] Labels = [false, false, false, false, false, true, true, true, true, true];

    [Fact]
    public void Escape_zero_keeps_every_validation_defect()
    {
        var d = ThresholdCalibrator.Calibrate(Scores, Labels, Escape(0));

        Assert.True(d.Threshold <= 0.3f, $"threshold {d.Threshold} is above the lowest defect score 0.3");
        Assert.Equal(0.3f, d.Threshold); // the highest such threshold
        Assert.Equal(0.0, ImageMetrics.Confusion(Scores, Labels, d.Threshold).EscapeRate);
        Assert.Equal(0f, d.UncertainMargin);
    }

    [Theory]
    [InlineData(0.2, 0.5f)] // 1 of 5 defects may escape: the 0.3 one
    [InlineData(0.39, 0.5f)] // still 1 (floor of 1.95)
    [InlineData(0.4, 0.7f)] // 2 may escape
    public void Escape_rate_allows_at_most_that_share_of_defects_to_pass(double rate, float expected)
    {
        var d = ThresholdCalibrator.Calibrate(Scores, Labels, Escape(rate));

        Assert.Equal(expected, d.Threshold);
        Assert.True(ImageMetrics.Confusion(Scores, Labels, d.Threshold).EscapeRate <= rate);
    }

    [Fact]
    public void Escape_rate_counts_are_not_lost_to_floating_point()
    {
        // 0.29 * 100 is 28.999999999999996 in doubles; 29 misses are allowed.
        var defects = Enumerable.Range(1, 100).Select(i => i / 101f).ToArray();

        var d = ThresholdCalibrator.Calibrate(defects, defects.Select(_ => true).ToArray(), Escape(0.29));

        Assert.Equal(defects[29], d.Threshold);
        Assert.Equal(29, defects.Count(s => s < d.Threshold));
    }

    [Fact]
    public void F1_on_a_separable_set_reaches_one_between_the_classes()
    {
        float[] scores = [0.1f, 0.2f, 0.3f, 0.7f, 0.8f];
        bool[] labels = [false, false, false, true, true];

        var d = ThresholdCalibrator.Calibrate(scores, labels, F1);

        Assert.Equal(1.0, ImageMetrics.Confusion(scores, labels, d.Threshold).F1);
        Assert.Equal(0.5f, d.Threshold, 1e-6f); // midway between the highest good and the lowest defect
    }

    [Fact]
    public void F1_picks_the_best_threshold_on_overlapping_classes()
    {
        var d = ThresholdCalibrator.Calibrate(Scores, Labels, F1);

        var best = Scores.Select(t => ImageMetrics.Confusion(Scores, Labels, t).F1!.Value).Max();
        Assert.Equal(best, ImageMetrics.Confusion(Scores, Labels, d.Threshold).F1!.Value, 12);
        // Flagging from 0.3 up (TP 5, FP 2) gives 0.833, ahead of 0.5 up (TP 4, FP 1, FN 1) at 0.8; midway in (0.2, 0.3].
        Assert.Equal(0.25f, d.Threshold, 1e-6f);
    }

    [Fact]
    public void Fixed_threshold_is_kept()
    {
        Assert.Equal(new DecisionThresholds(0.4f, 0f), ThresholdCalibrator.Calibrate(Scores, Labels, ThresholdGoal.Parse("0.4")));
        Assert.Equal(0.4f, ThresholdCalibrator.Calibrate([], [], ThresholdGoal.Parse("0.4")).Threshold);
    }

    [Fact]
    public void Thresholds_are_clamped_inside_the_open_unit_interval()
    {
        Assert.Equal(ThresholdCalibrator.MaxThreshold, ThresholdCalibrator.Calibrate([0.1f, 1f], [false, true], Escape(0)).Threshold);
        Assert.Equal(ThresholdCalibrator.MinThreshold, ThresholdCalibrator.Calibrate([0.0001f], [false], ThresholdGoal.Parse("0.0001")).Threshold);
        // F1 wants everything flagged (threshold 0); the floor wins, and the zero-score defect can never be NG.
        Assert.Equal(ThresholdCalibrator.MinThreshold, ThresholdCalibrator.Calibrate([0f, 0.5f], [true, true], F1).Threshold);
    }

    [Fact]
    public void Escape_goal_that_needs_a_threshold_below_the_floor_is_refused()
    {
        var e = Assert.Throws<CalibrationException>(() => ThresholdCalibrator.Calibrate([0.0002f, 0.5f, 0.1f], [true, true, false], Escape(0)));

        Assert.Contains("escape=0", e.Message);
        Assert.Contains("0.001", e.Message);
        Assert.Contains("1 of 2 defective", e.Message);
    }

    [Fact]
    public void Goals_without_validation_defects_are_refused()
    {
        float[] goods = [0.1f, 0.2f];
        bool[] labels = [false, false];

        Assert.Contains("no defective images", Assert.Throws<CalibrationException>(() => ThresholdCalibrator.Calibrate(goods, labels, Escape(0.01))).Message);
        Assert.Contains("no defective images", Assert.Throws<CalibrationException>(() => ThresholdCalibrator.Calibrate(goods, labels, F1)).Message);
    }

    [Fact]
    public void Review_fraction_bounds_the_images_in_the_uncertain_band()
    {
        // Binary fractions, so every distance to 0.5 is exact in float and double alike.
        // Distances sorted: 0, 1/16, 1/8, 1/4, 1/4, 3/8, 3/8, 7/16, 1/2, 1/2.
        float[] scores = [0.5f, 0.4375f, 0.625f, 0.25f, 0.75f, 0.125f, 0.875f, 0.0625f, 0f, 1f];
        var labels = scores.Select(s => s >= 0.5f).ToArray();
        var fixedHalf = ThresholdGoal.Parse("0.5");
        int InBand(DecisionThresholds d) => scores.Count(s => Math.Abs(s - d.Threshold) <= d.UncertainMargin);

        var three = ThresholdCalibrator.Calibrate(scores, labels, fixedHalf, reviewFraction: 0.3);
        Assert.Equal(new DecisionThresholds(0.5f, 0.1875f), three); // halfway between 1/8 (in) and 1/4 (out)
        Assert.Equal(3, InBand(three));

        // Four would split the tie at 1/4: the band stays at three images rather than take in five.
        Assert.Equal(3, InBand(ThresholdCalibrator.Calibrate(scores, labels, fixedHalf, reviewFraction: 0.4)));
        var five = ThresholdCalibrator.Calibrate(scores, labels, fixedHalf, reviewFraction: 0.5);
        Assert.Equal(0.3125f, five.UncertainMargin);
        Assert.Equal(5, InBand(five));
        Assert.Equal(0f, ThresholdCalibrator.Calibrate(scores, labels, fixedHalf, reviewFraction: 0.09).UncertainMargin);
    }

    [Fact]
    public void Review_fraction_outside_zero_to_one_is_refused()
    {
        Assert.Throws<ArgumentException>(() => ThresholdCalibrator.Calibrate(Scores, Labels, F1, reviewFraction: 1));
        Assert.Throws<ArgumentException>(() => ThresholdCalibrator.Calibrate(Scores, Labels, F1, reviewFraction: -0.1));
    }

    [Fact]
    public void Outcomes_overload_reads_scores_and_labels()
    {
        ImageOutcome[] outcomes = [Outcomes.Of("g", "good", 0.2f), Outcomes.Of("d", "crack", 0.6f), Outcomes.Of("e", "dent", 0.8f)];

        Assert.Equal(0.6f, ThresholdCalibrator.Calibrate(outcomes, Escape(0)).Threshold);
    }

}
