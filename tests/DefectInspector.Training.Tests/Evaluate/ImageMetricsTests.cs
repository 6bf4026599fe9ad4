using DefectInspector.Training.Evaluate;

namespace DefectInspector.Training.Tests.Evaluate;

public sealed class ImageMetricsTests
{
    private static readonly float[] Scores = [0.1f, 0.4f, 0.35f, 0.8f];
    private static readonly bool[] Labels = [false, false, true, true];

    [Fact]
    public void Auroc_and_average_precision_of_the_textbook_case()
    {
        // Pairs (defect, good): 0.35 beats 0.1 only, 0.8 beats both: 3 of 4.
        Assert.Equal(0.75, ImageMetrics.Auroc(Scores, Labels), 12);
        // Thresholds 0.8 (R .5, P 1), 0.4 (R .5, P .5), 0.35 (R 1, P 2/3): .5 * 1 + .5 * 2/3.
        Assert.Equal(0.5 + 0.5 * 2 / 3.0, ImageMetrics.AveragePrecision(Scores, Labels), 12);
        Assert.Equal(0.8333, ImageMetrics.AveragePrecision(Scores, Labels), 4);
    }

    [Fact]
    public void Ties_between_classes_count_half()
    {
        Assert.Equal(0.5, ImageMetrics.Auroc([0.5f, 0.5f], [true, false]), 12);
        // Defects {0.5, 0.9} vs goods {0.2, 0.5}: 1 + 0.5 + 1 + 1 of 4.
        Assert.Equal(0.875, ImageMetrics.Auroc([0.2f, 0.5f, 0.5f, 0.9f], [false, false, true, true]), 12);
    }

    [Fact]
    public void Tied_scores_form_one_precision_recall_step()
    {
        // All three flagged at once: recall 0 -> 1 at precision 1/3 (scikit-learn gives 1/3 too).
        Assert.Equal(1 / 3.0, ImageMetrics.AveragePrecision([0.5f, 0.5f, 0.5f], [true, false, false]), 12);
        var point = Assert.Single(ImageMetrics.PrCurve([0.5f, 0.5f, 0.5f], [true, false, false]));
        Assert.Equal(new PrPoint(1, 1 / 3.0, 0.5f), point);
    }

    [Fact]
    public void Perfect_and_inverted_rankings()
    {
        float[] scores = [0.1f, 0.2f, 0.8f, 0.9f];
        Assert.Equal(1.0, ImageMetrics.Auroc(scores, [false, false, true, true]), 12);
        Assert.Equal(1.0, ImageMetrics.AveragePrecision(scores, [false, false, true, true]), 12);

        Assert.Equal(0.0, ImageMetrics.Auroc(scores, [true, true, false, false]), 12);
        // Defects found last: at 0.2 P = 1/3 (R .5), at 0.1 P = 1/2 (R 1).
        Assert.Equal(0.5 / 3 + 0.5 * 0.5, ImageMetrics.AveragePrecision(scores, [true, true, false, false]), 12);
    }

    [Fact]
    public void Auroc_matches_counting_every_pair_on_random_tied_scores()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 20; trial++)
        {
            var n = random.Next(2, 60);
            // Coarse scores so that ties are common.
            var scores = Enumerable.Range(0, n).Select(_ => random.Next(0, 8) / 8f).ToArray();
            var labels = Enumerable.Range(0, n).Select(i => i == 0 || (i != 1 && random.Next(2) == 0)).ToArray();

            double wins = 0;
            int pairs = 0;
            for (var i = 0; i < n; i++)
                for (var j = 0; j < n; j++)
                    if (labels[i] && !labels[j])
                    {
                        pairs++;
                        wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                    }

            Assert.Equal(wins / pairs, ImageMetrics.Auroc(scores, labels), 12);
        }
    }

    [Fact]
    public void Auroc_refuses_a_single_class_with_the_counts()
    {
        var e = Assert.Throws<ArgumentException>(() => ImageMetrics.Auroc([0.1f, 0.9f], [true, true]));
        Assert.Contains("2 defective and 0 good", e.Message);
        Assert.Throws<ArgumentException>(() => ImageMetrics.RocCurve([0.1f], [false]));
        Assert.Throws<ArgumentException>(() => ImageMetrics.AveragePrecision([0.1f, 0.2f], [false, false]));
    }

    [Fact]
    public void Bad_input_is_refused()
    {
        Assert.Throws<ArgumentException>(() => ImageMetrics.Auroc([0.1f, float.NaN], [true, false]));
        Assert.Throws<ArgumentException>(() => ImageMetrics.Confusion([0.1f], [true, false], 0.5f));
    }

    [Fact]
    public void Roc_curve_runs_from_origin_through_each_threshold_and_its_area_is_the_auroc()
    {
        var roc = ImageMetrics.RocCurve(Scores, Labels);

        Assert.Equal(
            [new RocPoint(0, 0, null), new(0, 0.5, 0.8f), new(0.5, 0.5, 0.4f), new(0.5, 1, 0.35f), new(1, 1, 0.1f)],
            roc);
        var area = roc.Zip(roc.Skip(1), (a, b) => (b.FalsePositiveRate - a.FalsePositiveRate) * (a.TruePositiveRate + b.TruePositiveRate) / 2).Sum();
        Assert.Equal(ImageMetrics.Auroc(Scores, Labels), area, 12);
    }

    [Fact]
    public void Pr_curve_has_one_point_per_distinct_score_highest_first()
    {
        Assert.Equal(
            [new PrPoint(0.5, 1, 0.8f), new(0.5, 0.5, 0.4f), new(1, 2 / 3.0, 0.35f), new(1, 0.5, 0.1f)],
            ImageMetrics.PrCurve(Scores, Labels));
    }

    [Fact]
    public void Confusion_counts_scores_at_the_threshold_as_ng()
    {
        var at040 = ImageMetrics.Confusion(Scores, Labels, 0.4f);
        // 0.8 defect caught, 0.35 defect escapes, 0.4 good rejected (>=), 0.1 good passed.
        Assert.Equal(new ConfusionCounts(1, 1, 1, 1), at040);
        Assert.Equal(0.5, at040.EscapeRate);
        Assert.Equal(0.5, at040.FalseRejectRate);
        Assert.Equal(0.5, at040.F1);

        var at035 = ImageMetrics.Confusion(Scores, Labels, 0.35f);
        Assert.Equal(new ConfusionCounts(2, 1, 1, 0), at035);
        Assert.Equal(0.0, at035.EscapeRate);
        Assert.Equal(0.5, at035.FalseRejectRate);
        Assert.Equal(2 / 3.0, at035.Precision!.Value, 12);
        Assert.Equal(0.8, at035.F1!.Value, 12);

        var at09 = ImageMetrics.Confusion(Scores, Labels, 0.9f);
        Assert.Equal(new ConfusionCounts(0, 0, 2, 2), at09);
        Assert.Equal(1.0, at09.EscapeRate);
        Assert.Null(at09.Precision);
        Assert.Equal(0.0, at09.F1);
    }

    [Fact]
    public void Rates_without_a_denominator_are_null_not_zero()
    {
        var goodsOnly = ImageMetrics.Confusion([0.2f, 0.7f], [false, false], 0.5f);
        Assert.Null(goodsOnly.EscapeRate);
        Assert.Null(goodsOnly.Recall);
        Assert.Equal(0.5, goodsOnly.FalseRejectRate);

        var passedGoods = ImageMetrics.Confusion([0.2f], [false], 0.5f);
        Assert.Null(passedGoods.F1);
        Assert.Null(ImageMetrics.Confusion([0.9f], [true], 0.5f).FalseRejectRate);
    }

    [Fact]
    public void Per_kind_recall_and_escape_group_kinds_ignoring_case()
    {
        ImageOutcome[] outcomes =
        [
            Outcomes.Of("g1", "good", 0.1f), Outcomes.Of("g2", "good", 0.6f),
            Outcomes.Of("c1", "crack", 0.9f), Outcomes.Of("c2", "Crack", 0.3f), Outcomes.Of("c3", "crack", 0.5f),
            Outcomes.Of("s1", "scratch", 0.7f),
        ];

        var kinds = ImageMetrics.PerKind(outcomes, 0.5f);

        Assert.Equal(["crack", "scratch"], kinds.Select(k => k.Kind));
        var crack = kinds[0];
        Assert.Equal((3, 2), (crack.Images, crack.Detected));
        Assert.Equal(2 / 3.0, crack.Recall, 12);
        Assert.Equal(1 / 3.0, crack.EscapeRate, 12);
        Assert.Equal((0.9 + 0.3 + 0.5) / 3, crack.MeanScore, 6);
        // Cracks {.9,.3,.5} vs goods {.1,.6}: 2 + 1 + 1 of 6.
        Assert.Equal(4 / 6.0, crack.AurocVersusGood!.Value, 12);
        Assert.Equal((1, 1, 1.0, 0.0), (kinds[1].Images, kinds[1].Detected, kinds[1].Recall, kinds[1].EscapeRate));
    }

    [Fact]
    public void Per_kind_without_good_images_has_no_auroc()
    {
        var kind = Assert.Single(ImageMetrics.PerKind([Outcomes.Of("c", "crack", 0.4f)], 0.5f));
        Assert.Null(kind.AurocVersusGood);
        Assert.Equal(1.0, kind.EscapeRate);
    }
}
