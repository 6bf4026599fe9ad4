using System.Globalization;
using System.Net;
using System.Text;

namespace DefectInspector.Training.Evaluate;

/// <summary>
/// A unit-square line chart (both axes 0 to 1) as inline SVG: a curve, an optional dashed reference line and an
/// optional marked operating point. Hand-made so the report needs no plotting package and no script.
/// </summary>
internal sealed record SvgChart(
    string Title,
    string XLabel,
    string YLabel,
    IReadOnlyList<(double X, double Y)> Curve,
    IReadOnlyList<(double X, double Y)>? Reference = null,
    (double X, double Y)? Operating = null,
    string? OperatingLabel = null)
{
    private const int Width = 380, Height = 340;
    private const int Left = 52, Right = 16, Top = 30, Bottom = 48;
    private const int PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;

    public string Render()
    {
        var svg = new StringBuilder();
        svg.Append($"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Html(Title)}\">");
        svg.Append($"<title>{Html(Title)}</title>");
        svg.Append($"<text x=\"{Width / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{Html(Title)}</text>");

        for (var i = 0; i <= 5; i++)
        {
            var v = i / 5.0;
            var (x, y) = (Px(v), Py(v));
            svg.Append($"<line x1=\"{N(x)}\" y1=\"{Top}\" x2=\"{N(x)}\" y2=\"{Top + PlotHeight}\" stroke=\"#e4e4e4\"/>");
            svg.Append($"<line x1=\"{Left}\" y1=\"{N(y)}\" x2=\"{Left + PlotWidth}\" y2=\"{N(y)}\" stroke=\"#e4e4e4\"/>");
            var label = v.ToString("0.0", CultureInfo.InvariantCulture);
            svg.Append($"<text x=\"{N(x)}\" y=\"{Top + PlotHeight + 16}\" text-anchor=\"middle\" font-size=\"11\">{label}</text>");
            svg.Append($"<text x=\"{Left - 6}\" y=\"{N(Py(v) + 4)}\" text-anchor=\"end\" font-size=\"11\">{label}</text>");
        }

        svg.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#333\"/>");
        svg.Append($"<text x=\"{Left + PlotWidth / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\" font-size=\"12\">{Html(XLabel)}</text>");
        svg.Append($"<text transform=\"translate(14 {Top + PlotHeight / 2}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">{Html(YLabel)}</text>");

        if (Reference is { Count: > 1 })
            svg.Append($"<polyline class=\"reference\" points=\"{Points(Reference)}\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>");
        if (Curve.Count > 0)
            svg.Append($"<polyline class=\"curve\" points=\"{Points(Curve)}\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\"/>");
        if (Operating is var (ox, oy))
        {
            svg.Append($"<circle class=\"operating-point\" cx=\"{N(Px(ox))}\" cy=\"{N(Py(oy))}\" r=\"5\" fill=\"#d62728\" stroke=\"#fff\" stroke-width=\"1.5\"/>");
            if (OperatingLabel is not null)
            {
                // Label to the left of points in the right half, so it never runs off the plot.
                var (anchor, dx) = ox > 0.5 ? ("end", -9) : ("start", 9);
                var ty = Math.Clamp(Py(oy) + (oy > 0.9 ? 16 : -8), Top + 12, Top + PlotHeight - 4);
                svg.Append($"<text x=\"{N(Px(ox) + dx)}\" y=\"{N(ty)}\" text-anchor=\"{anchor}\" font-size=\"12\" fill=\"#d62728\">{Html(OperatingLabel)}</text>");
            }
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static double Px(double x) => Left + Math.Clamp(x, 0, 1) * PlotWidth;

    private static double Py(double y) => Top + (1 - Math.Clamp(y, 0, 1)) * PlotHeight;

    private static string Points(IEnumerable<(double X, double Y)> points) =>
        string.Join(' ', points.Select(p => $"{N(Px(p.X))},{N(Py(p.Y))}"));

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Html(string s) => WebUtility.HtmlEncode(s);
}
