using DefectInspector.Core.Regions;
using DefectInspector.Host.Tests.Infrastructure;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Inspect;
using DefectInspector.Vision.Capture;
using OpenCvSharp;
using Xunit.Abstractions;

namespace DefectInspector.Host.Tests;

/// <summary>
/// What a newcomer sees at first start: the demo model, trained by the daemon with the drawn defects' masks, boxes the
/// scratch, spot or crack of an NG part rather than the frame. Measured on parts drawn with a seed neither its
/// training nor the choice of its region setting saw.
/// </summary>
public sealed class DemoRegionsTests(DaemonFixture fixture, ITestOutputHelper output) : IClassFixture<DaemonFixture>
{
    private const int Seed = 20261205;
    private const int PerKind = 10;

    [Fact]
    public void The_demo_models_regions_box_the_defects_the_virtual_line_draws()
    {
        using var engine = InferenceEngines.Open(fixture.DemoModelPath, Engines.Onnx, "cpu");
        var inspector = new PartInspector(engine);
        var line = new SourceSettings();
        var rng = new Random(Seed);
        var ious = new List<(DefectKind Kind, double Iou)>();
        int goodWithRegions = 0;
        foreach (DefectKind? kind in Enum.GetValues<DefectKind>().Select(k => (DefectKind?)k).Append(null))
        {
            for (int i = 0; i < PerKind; i++)
            {
                using var part = SyntheticParts.Draw(line.VirtualWidth, line.VirtualHeight, rng, kind);
                var regions = inspector.Inspect([part.Image])[0].Regions;
                if (kind is { } defect)
                    ious.Add((defect, regions.Count == 0 ? 0 : Iou(regions.MaxBy(r => r.Score)!.Box, part.DefectBounds!.Value)));
                else if (regions.Count > 0)
                    goodWithRegions++;
            }
        }

        string summary = $"mean IoU {ious.Average(d => d.Iou):0.000} (" +
            string.Join(", ", ious.GroupBy(d => d.Kind).Select(g => $"{g.Key} {g.Average(d => d.Iou):0.00}")) + $"), good parts with a region {goodWithRegions}/{PerKind}";
        output.WriteLine(summary);
        Assert.True(ious.Average(d => d.Iou) >= 0.3, summary);
        Assert.True(goodWithRegions <= 1, summary);
    }

    /// <summary>The intersection over union of the hottest region's box and the drawn defect's bounding box.</summary>
    private static double Iou(Box box, Rect drawn)
    {
        var found = new Rect(box.X, box.Y, box.Width, box.Height);
        var overlap = found & drawn;
        double intersection = overlap.Width > 0 && overlap.Height > 0 ? (double)overlap.Width * overlap.Height : 0;
        return intersection / ((double)found.Width * found.Height + (double)drawn.Width * drawn.Height - intersection);
    }
}
