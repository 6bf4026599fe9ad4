using System.Globalization;
using System.Net;
using System.Text;

namespace DefectInspector.Training.Evaluate;

/// <summary>
/// The self-contained <c>report.html</c>: inline CSS, inline SVG charts and gallery overlays as data URIs, so the
/// single file can be mailed or archived. Every text that came from data (paths, kinds, names) is HTML-encoded.
/// </summary>
internal static class ReportHtml
{
    private const string Style = """
        body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
        h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
        .meta { color: #555; font-size: 13px; }
        table { border-collapse: collapse; font-size: 14px; }
        th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
        th { background: #f3f3f3; }
        .charts { display: flex; flex-wrap: wrap; gap: 24px; }
        .gallery { display: flex; flex-wrap: wrap; gap: 12px; }
        figure { margin: 0; width: 260px; border: 1px solid #ddd; padding: 6px; }
        figure img { width: 100%; height: auto; display: block; }
        figcaption { font-size: 12px; margin-top: 4px; overflow-wrap: anywhere; }
        .bad { color: #b00020; font-weight: bold; } .note { color: #777; font-style: italic; }
        """;

    public static string Render(EvaluationReport report, Func<GalleryEntry, byte[]> overlay)
    {
        var html = new StringBuilder();
        var subject = report.Subject;
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append($"<title>Evaluation: {E(subject.ModelName)} on {E(subject.Dataset)}</title><style>{Style}</style></head><body>\n");
        html.Append($"<h1>Evaluation of {E(subject.ModelName)}</h1>\n<p class=\"meta\">");
        html.Append($"model hash {E(subject.ModelHash ?? "not given")} &middot; dataset {E(subject.Dataset)}");
        if (subject.Explainer is not null)
            html.Append($" &middot; maps {E(subject.Explainer)}");
        html.Append($" &middot; {E(report.CreatedAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))}</p>\n");

        Summary(html, report);
        Charts(html, report);
        PerKind(html, report);
        if (report.Localisation is { } localisation)
            Localisation(html, localisation);
        if (report.Faithfulness is { } faithfulness)
            Faithfulness(html, faithfulness);
        Gallery(html, "Worst misses: lowest-scoring defective images", "missed", report.WorstMisses, overlay);
        Gallery(html, "Worst false rejects: highest-scoring good images", "rejected", report.WorstFalseRejects, overlay);
        if (report.WorstPointing.Count > 0)
            Gallery(html, "Worst pointing: defective images whose map peaks farthest from the defect (green: the mask; cross: the peak)",
                "points away", report.WorstPointing, overlay);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void Summary(StringBuilder html, EvaluationReport report)
    {
        var d = report.Decision;
        var c = report.ImageLevel.Confusion;
        html.Append("<h2>Summary</h2>\n<table class=\"summary\">\n");
        Row(html, "Images", $"{report.Counts.Images} ({report.Counts.Defective} defective, {report.Counts.Good} good)");
        Row(html, "Image AUROC", F(report.ImageLevel.Auroc));
        Row(html, "Average precision", F(report.ImageLevel.AveragePrecision));
        Row(html, "Decision threshold", $"{F(d.Threshold)} (NG at or above)");
        Row(html, "Uncertain margin", d.UncertainMargin > 0
            ? $"&plusmn;{F(d.UncertainMargin)}: {report.ImageLevel.UncertainImages} images to an operator"
            : "none");
        Row(html, "Escape rate (defective passed as good)", Rate(c.EscapeRate, c.FalseNegatives, c.Defects));
        Row(html, "False reject rate (good rejected)", Rate(c.FalseRejectRate, c.FalsePositives, c.Goods));
        Row(html, "Precision", F(c.Precision));
        Row(html, "Recall", F(c.Recall));
        Row(html, "F1", F(c.F1));
        html.Append("</table>\n");

        html.Append("<h2>Confusion at the threshold</h2>\n<table class=\"confusion\">");
        html.Append("<tr><th></th><th>judged NG</th><th>judged good</th></tr>");
        html.Append($"<tr><th>defective</th><td class=\"n\">{c.TruePositives}</td><td class=\"n\">{c.FalseNegatives} escaped</td></tr>");
        html.Append($"<tr><th>good</th><td class=\"n\">{c.FalsePositives} falsely rejected</td><td class=\"n\">{c.TrueNegatives}</td></tr>");
        html.Append("</table>\n");
    }

    private static void Charts(StringBuilder html, EvaluationReport report)
    {
        var c = report.ImageLevel.Confusion;
        var label = $"t = {F(report.Decision.Threshold)}";
        html.Append("<h2>Curves</h2>\n<div class=\"charts\">\n");
        if (report.Roc.Count > 0)
        {
            var roc = new SvgChart($"ROC (AUROC {F(report.ImageLevel.Auroc)})", "False reject rate (FPR)", "Recall (TPR)",
                report.Roc.Select(p => (p.FalsePositiveRate, p.TruePositiveRate)).ToList(),
                [(0, 0), (1, 1)],
                c.FalseRejectRate is { } fpr && c.Recall is { } tpr ? (fpr, tpr) : null,
                label);
            html.Append(roc.Render()).Append('\n');
        }
        else
        {
            html.Append("<p class=\"note\">No ROC curve: it needs both defective and good images.</p>\n");
        }

        if (report.PrecisionRecall.Count > 0)
        {
            var prevalence = (double)report.Counts.Defective / report.Counts.Images;
            var pr = new SvgChart($"Precision-recall (AP {F(report.ImageLevel.AveragePrecision)})", "Recall", "Precision",
                PrSteps(report.PrecisionRecall),
                [(0, prevalence), (1, prevalence)],
                c.Recall is { } r && c.Precision is { } p ? (r, p) : null,
                label);
            html.Append(pr.Render()).Append('\n');
        }
        else
        {
            html.Append("<p class=\"note\">No precision-recall curve: it needs defective images.</p>\n");
        }

        html.Append("</div>\n");
    }

    /// <summary>Precision holds at P_n over recall (R_{n-1}, R_n], the step whose area is the average precision.</summary>
    private static List<(double X, double Y)> PrSteps(IReadOnlyList<PrPoint> points)
    {
        var steps = new List<(double X, double Y)> { (0, points[0].Precision) };
        for (var i = 0; i < points.Count; i++)
        {
            steps.Add((points[i].Recall, points[i].Precision));
            if (i + 1 < points.Count)
                steps.Add((points[i].Recall, points[i + 1].Precision));
        }

        return steps;
    }

    private static void PerKind(StringBuilder html, EvaluationReport report)
    {
        html.Append("<h2>Per defect kind</h2>\n");
        if (report.PerKind.Count == 0)
        {
            html.Append("<p class=\"note\">No defective images.</p>\n");
            return;
        }

        html.Append("<table class=\"kinds\"><tr><th>kind</th><th>images</th><th>detected</th><th>recall</th><th>escape rate</th><th>mean score</th><th>AUROC vs good</th></tr>\n");
        foreach (var k in report.PerKind)
        {
            var escape = k.EscapeRate > 0 ? $"<span class=\"bad\">{F(k.EscapeRate)}</span>" : F(k.EscapeRate);
            html.Append($"<tr><td>{E(k.Kind)}</td><td class=\"n\">{k.Images}</td><td class=\"n\">{k.Detected}</td><td class=\"n\">{F(k.Recall)}</td>");
            html.Append($"<td class=\"n\">{escape}</td><td class=\"n\">{F(k.MeanScore)}</td><td class=\"n\">{F(k.AurocVersusGood)}</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Faithfulness(StringBuilder html, Faithfulness.FaithfulnessSummary f)
    {
        html.Append($"<h2>Faithfulness of the {E(f.Method)} maps</h2>\n<table class=\"faithfulness\">\n");
        Row(html, "Deletion AUC (most relevant pixels set to the mean first; lower is more faithful)", F(f.DeletionAuc));
        Row(html, "Insertion AUC (most relevant pixels restored into a blurred input first; higher is more faithful)", F(f.InsertionAuc));
        Row(html, "ROAD, most relevant removed first: mean defect score (lower is more faithful)", F(f.RoadMostRelevantFirst));
        Row(html, "ROAD, least relevant removed first: mean defect score (higher is more faithful)", F(f.RoadLeastRelevantFirst));
        Row(html, "Defective images measured", f.Images.ToString(CultureInfo.InvariantCulture));
        html.Append("</table>\n<div class=\"charts\">\n");
        html.Append(new SvgChart("Deletion (solid), insertion (dashed)", "Share of pixels", "Mean defect score",
            f.Deletion.Select(p => (p.Fraction, p.Score)).ToList(), f.Insertion.Select(p => (p.Fraction, p.Score)).ToList()).Render()).Append('\n');
        html.Append(new SvgChart("ROAD: most (solid), least (dashed) relevant removed", "Share of pixels removed", "Mean defect score",
            f.RoadMostRelevantFirstCurve.Select(p => (p.Fraction, p.Score)).ToList(), f.RoadLeastRelevantFirstCurve.Select(p => (p.Fraction, p.Score)).ToList()).Render()).Append('\n');
        html.Append("</div>\n");
    }

    private static void Localisation(StringBuilder html, LocalisationSummary l)
    {
        html.Append("<h2>Localisation</h2>\n<table class=\"localisation\">\n");
        Row(html, "Pixel AUROC", $"{F(l.PixelAuroc)} ({Count(l.PixelsSampled)} of {Count(l.PixelsTotal)} pixels)");
        Row(html, $"Pointing game (peak within {l.PointingRadius} px of a defect)", Rate(l.PointingGame, l.PointingHits, l.DefectImagesScored));
        Row(html, "Region recall (a region box touches the defect)", Rate(l.RegionRecall, l.RegionHits, l.DefectImagesScored));
        Row(html, "Mean IoU of region boxes with the mask", F(l.MeanRegionIou));
        Row(html, "Good images with a false region", Rate(l.FalseRegionRate, l.GoodImagesWithRegions, l.GoodImagesScored));
        Row(html, "Mean regions per good image", F(l.MeanRegionsPerGoodImage));
        Row(html, "Defective images scored", $"{l.DefectImagesScored}; left out: {l.DefectImagesWithEmptyMask} with an empty mask, " +
            $"{l.DefectImagesWithoutMask} without a mask, {l.ImagesWithoutHeat} images without a heatmap");
        html.Append("</table>\n");
        if (l.PerKind.Count == 0) return;
        html.Append("<table class=\"kinds\"><tr><th>kind</th><th>images scored</th><th>pointing game</th><th>region recall</th><th>region IoU</th></tr>\n");
        foreach (var k in l.PerKind)
        {
            html.Append($"<tr><td>{E(k.Kind)}</td><td class=\"n\">{k.Scored}</td><td class=\"n\">{Rate(k.PointingGame, k.PointingHits, k.Scored)}</td>");
            html.Append($"<td class=\"n\">{Rate(k.RegionRecall, k.RegionHits, k.Scored)}</td><td class=\"n\">{F(k.MeanRegionIou)}</td></tr>\n");
        }
        html.Append("</table>\n");
    }

    private static void Gallery(StringBuilder html, string title, string misjudged, IReadOnlyList<GalleryEntry> entries, Func<GalleryEntry, byte[]> overlay)
    {
        html.Append($"<h2>{E(title)}</h2>\n");
        if (entries.Count == 0)
        {
            html.Append("<p class=\"note\">No images.</p>\n");
            return;
        }

        html.Append("<div class=\"gallery\">\n");
        foreach (var e in entries)
        {
            var bytes = overlay(e);
            var name = Path.GetFileName(e.Path);
            var verdict = e.Misjudged ? $" &middot; <span class=\"bad\">{misjudged}</span>" : "";
            html.Append($"<figure title=\"{E(e.Path)}\"><img src=\"data:{MimeType(bytes)};base64,{Convert.ToBase64String(bytes)}\" alt=\"{E(name)}\">");
            var distance = e.PeakDistance is { } d ? $" &middot; peak {d.ToString("0", CultureInfo.InvariantCulture)} px from the defect" : "";
            html.Append($"<figcaption><b>{E(name)}</b><br>{E(e.Kind)} &middot; score {F(e.Score)}{distance}{verdict}</figcaption></figure>\n");
        }

        html.Append("</div>\n");
    }

    // The delegate may encode as PNG (OverlayOptions allows it); a wrong MIME type would show a broken image.
    private static string MimeType(byte[] bytes) =>
        bytes is [0x89, (byte)'P', (byte)'N', (byte)'G', ..] ? "image/png" : "image/jpeg";

    private static void Row(StringBuilder html, string name, string valueHtml) =>
        html.Append($"<tr><th>{E(name)}</th><td>{valueHtml}</td></tr>\n");

    private static string Rate(double? rate, int count, int of) => rate is null ? "n/a" : $"{F(rate)} ({count} of {of})";

    private static string F(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
