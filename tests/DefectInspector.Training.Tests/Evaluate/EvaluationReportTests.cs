using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DefectInspector.Core.Decision;
using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Training.Evaluate;
using static DefectInspector.Training.Tests.Outcomes;

namespace DefectInspector.Training.Tests.Evaluate;

public sealed class EvaluationReportTests
{
    private static readonly ReportSubject Subject = new("bottle-r18", "sha256:abc123", "mvtec/bottle", "test");
    private static readonly DecisionThresholds Decision = new(0.5f, 0.055f);

    /// <summary>10 good (0.00 .. 0.54) and 10 defective (0.45 .. 0.99) images; one file name needs escaping.</summary>
    private static List<ImageOutcome> Mixed()
    {
        var outcomes = new List<ImageOutcome>();
        for (var i = 0; i < 10; i++)
            outcomes.Add(Of($"good/{i:00}.png", "good", i * 0.06f, heat: Heat(16, 16, 0.2f, (i, i))));
        for (var i = 0; i < 10; i++)
        {
            var path = i == 0 ? "crack/a<b&c.png" : $"{(i % 2 == 0 ? "crack" : "scratch")}/{i:00}.png";
            var mask = Mask(16, 16, 4, 4, 4, 4);
            var heat = new FloatMap(16, 16, mask.Select(m => m ? 1f : 0f).ToArray());
            outcomes.Add(Of(path, i % 2 == 0 ? "crack" : "scratch", 0.45f + i * 0.06f, [RegionAt(4, 4, 4, 4)], heat, mask));
        }

        return outcomes;
    }

    [Fact]
    public void The_pointing_gallery_shows_the_maps_that_peak_farthest_from_their_defect()
    {
        // Defect pixels x, y in [4, 8); peaks at 0, 9 and 20 px from them, and an image with nothing marked.
        var mask = Mask(32, 32, 4, 4, 4, 4);
        ImageOutcome[] outcomes =
        [
            Of("on.png", "crack", 0.9f, heat: Heat(32, 32, 1f, (5, 5)), mask: mask),
            Of("near.png", "crack", 0.9f, heat: Heat(32, 32, 1f, (16, 7)), mask: mask),
            Of("far.png", "scratch", 0.9f, heat: Heat(32, 32, 1f, (27, 7)), mask: mask),
            Of("unmarked.png", "crack", 0.9f, heat: Heat(32, 32, 1f, (27, 7)), mask: new bool[32 * 32]),
            Of("good.png", "good", 0.1f, heat: Heat(32, 32, 1f, (27, 7))),
        ];

        var report = EvaluationReport.Create(outcomes, Subject, Decision, options: new ReportOptions(Localisation: new LocalisationOptions(PointingRadius: 10)));

        Assert.Equal(["far.png", "near.png", "on.png"], report.WorstPointing.Select(e => e.Path));
        Assert.Equal([20.0, 9.0, 0.0], report.WorstPointing.Select(e => e.PeakDistance!.Value));
        Assert.Equal([true, false, false], report.WorstPointing.Select(e => e.Misjudged));
        Assert.Single(EvaluationReport.Create(outcomes, Subject, Decision, options: new ReportOptions(GalleryCount: 1)).WorstPointing);
        var html = ReportHtmlOf(report, outcomes);
        Assert.Contains("peak 20 px from the defect &middot; <span class=\"bad\">points away</span>", html);
    }

    private static string ReportHtmlOf(EvaluationReport report, IReadOnlyList<ImageOutcome> outcomes)
    {
        using var dir = new TempFolder();
        return File.ReadAllText(report.Write(dir.Path, outcomes, FakeJpeg).Html);
    }

    /// <summary>Distinct fake JPEG bytes per image (JPEG magic + path), so each data URI can be found.</summary>
    private static byte[] FakeJpeg(ImageOutcome o) => [0xFF, 0xD8, 0xFF, .. Encoding.UTF8.GetBytes(o.Path)];

    [Fact]
    public void Create_gathers_image_kind_and_localisation_metrics()
    {
        var outcomes = Mixed();

        var report = EvaluationReport.Create(outcomes, Subject, Decision);

        Assert.Equal(new ImageCounts(20, 10, 10), report.Counts);
        var scores = outcomes.Select(o => o.DefectScore).ToArray();
        var labels = outcomes.Select(o => o.IsDefect).ToArray();
        Assert.Equal(ImageMetrics.Auroc(scores, labels), report.ImageLevel.Auroc);
        Assert.Equal(ImageMetrics.Confusion(scores, labels, 0.5f), report.ImageLevel.Confusion);
        // Within 0.055 of 0.5: goods 0.48, 0.54 and defects 0.45, 0.51.
        Assert.Equal(4, report.ImageLevel.UncertainImages);
        Assert.Equal(["crack", "scratch"], report.PerKind.Select(k => k.Kind));
        Assert.Equal(10, report.Localisation!.DefectImagesScored);
        Assert.Equal(1.0, report.Localisation.PointingGame);
        Assert.Equal(8, report.WorstMisses.Count);
        Assert.Equal("crack/a<b&c.png", report.WorstMisses[0].Path);
        Assert.True(report.WorstMisses[0].Misjudged);
        Assert.Equal(report.WorstMisses.OrderBy(e => e.Score), report.WorstMisses);
        Assert.Equal("good/09.png", report.WorstFalseRejects[0].Path);
        Assert.Equal(report.WorstFalseRejects.OrderByDescending(e => e.Score), report.WorstFalseRejects);
    }

    [Fact]
    public void Write_puts_a_round_tripping_camel_case_json_next_to_the_html()
    {
        var outcomes = Mixed();
        var report = EvaluationReport.Create(outcomes, Subject, Decision, new RegionSettings(ThresholdMode.Absolute, 2.5f));
        using var dir = new TempFolder();

        var files = report.Write(Path.Combine(dir.Path, "out"), outcomes, FakeJpeg);

        Assert.Equal(Path.Combine(dir.Path, "out", "report.json"), files.Json);
        Assert.True(File.Exists(files.Html));
        var json = File.ReadAllText(files.Json);
        var back = EvaluationReport.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(report.ImageLevel, back.ImageLevel);
        // The record holds its per-kind list by reference; the lists are compared element by element.
        Assert.Equal(report.Localisation! with { PerKind = back.Localisation!.PerKind }, back.Localisation);
        Assert.NotEmpty(back.Localisation.PerKind);
        Assert.Equal(report.Localisation.PerKind, back.Localisation.PerKind);
        Assert.Equal(report.Roc, back.Roc);
        Assert.Equal(report.PerKind, back.PerKind);
        Assert.Equal(report.WorstMisses, back.WorstMisses);
        Assert.NotEmpty(back.WorstPointing);
        Assert.Equal(report.WorstPointing, back.WorstPointing);

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("bottle-r18", root.GetProperty("subject").GetProperty("modelName").GetString());
        Assert.Equal(0.5, root.GetProperty("decision").GetProperty("threshold").GetDouble(), 6);
        Assert.Equal("Absolute", root.GetProperty("regions").GetProperty("mode").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("roc")[0].GetProperty("threshold").ValueKind);
        var confusion = root.GetProperty("imageLevel").GetProperty("confusion");
        Assert.Equal(report.ImageLevel.Confusion.EscapeRate!.Value, confusion.GetProperty("escapeRate").GetDouble(), 12);
        Assert.True(root.GetProperty("localisation").GetProperty("pixelAuroc").GetDouble() > 0.9);
    }

    [Fact]
    public void Html_has_both_charts_with_operating_points_and_the_galleries()
    {
        var outcomes = Mixed();
        var report = EvaluationReport.Create(outcomes, Subject, Decision);
        var rendered = new List<string>();
        using var dir = new TempFolder();

        var html = File.ReadAllText(report.Write(dir.Path, outcomes, o => { rendered.Add(o.Path); return FakeJpeg(o); }).Html);

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Equal(2, Count(html, "<svg "));
        Assert.Equal(2, Count(html, "class=\"operating-point\""));
        Assert.Contains("ROC (AUROC", html);
        Assert.Contains("Precision-recall (AP", html);
        Assert.Contains("t = 0.500", html);
        // Worst misses, worst false rejects and worst pointing, 8 each.
        Assert.Equal(24, Count(html, "<figure"));
        Assert.Equal(24, rendered.Count);
        foreach (var entry in report.WorstMisses.Concat(report.WorstFalseRejects).Concat(report.WorstPointing))
        {
            var o = outcomes.Single(x => x.Path == entry.Path);
            Assert.Contains($"src=\"data:image/jpeg;base64,{Convert.ToBase64String(FakeJpeg(o))}\"", html);
        }
    }

    [Fact]
    public void Html_escapes_names_from_the_data()
    {
        var outcomes = Mixed();
        outcomes.Add(Of("good/<script>x.png", "good", 0.9f));
        var report = EvaluationReport.Create(outcomes, Subject with { ModelName = "m<1>", Dataset = "d&\"q\"" }, Decision);
        using var dir = new TempFolder();

        var html = File.ReadAllText(report.Write(dir.Path, outcomes, FakeJpeg).Html);

        Assert.Contains("a&lt;b&amp;c.png", html);
        Assert.DoesNotContain("a<b", html);
        Assert.Contains("&lt;script&gt;x.png", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("m&lt;1&gt;", html);
        Assert.Contains("d&amp;&quot;q&quot;", html);
    }

    [Fact]
    public void Png_overlays_are_labelled_as_png()
    {
        var outcomes = Mixed();
        var report = EvaluationReport.Create(outcomes, Subject, Decision, options: new ReportOptions(GalleryCount: 1));
        using var dir = new TempFolder();
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10];

        var html = File.ReadAllText(report.Write(dir.Path, outcomes, _ => png).Html);

        Assert.Equal(3, Count(html, "data:image/png;base64,"));
        Assert.DoesNotContain("data:image/jpeg", html);
    }

    [Fact]
    public void Defects_only_give_null_auroc_and_no_roc_chart()
    {
        var outcomes = Mixed().Where(o => o.IsDefect).ToList();
        var report = EvaluationReport.Create(outcomes, Subject, Decision);
        using var dir = new TempFolder();

        var files = report.Write(dir.Path, outcomes, FakeJpeg);

        Assert.Null(report.ImageLevel.Auroc);
        Assert.NotNull(report.ImageLevel.AveragePrecision);
        Assert.Empty(report.Roc);
        Assert.Empty(report.WorstFalseRejects);
        using var doc = JsonDocument.Parse(File.ReadAllText(files.Json));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("imageLevel").GetProperty("auroc").ValueKind);
        var html = File.ReadAllText(files.Html);
        Assert.Equal(1, Count(html, "<svg "));
        Assert.Contains("No ROC curve", html);
    }

    [Fact]
    public void Outcomes_that_do_not_match_the_report_are_refused()
    {
        var report = EvaluationReport.Create(Mixed(), Subject, Decision);
        using var dir = new TempFolder();

        var e = Assert.Throws<ArgumentException>(() => report.Write(dir.Path, [Of("other.png", "good", 0.1f)], FakeJpeg));

        Assert.Contains("is not among the outcomes", e.Message);
    }

    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;
}
