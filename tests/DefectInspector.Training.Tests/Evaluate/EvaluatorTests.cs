using DefectInspector.Core.Decision;
using DefectInspector.Core.Imaging;
using DefectInspector.Core.Regions;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Inspect;
using DefectInspector.Inference.Model;
using DefectInspector.Training.Calibrate;
using DefectInspector.Training.Data;
using DefectInspector.Training.Evaluate;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DefectInspector.Training.Tests.Evaluate;

public sealed class EvaluatorTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Regions_follow_the_bundles_verdict_as_on_the_line_not_the_likeliest_class()
    {
        string path = folder.File("part.png");
        using (var image = new Mat(64, 80, MatType.CV_8UC3))
        {
            Cv2.Randu(image, Scalar.All(0), Scalar.All(255));
            Cv2.ImWrite(path, image);
        }
        // A region threshold every pixel passes: whether a part gets regions is then the verdict's call alone.
        var everywhere = new RegionSettings(ThresholdMode.Absolute, float.MinValue / 2, MinArea: 1);
        float score = DefectScore(path);

        // Thresholds either side of the part's defect score: the likeliest class is the same in both runs.
        var passed = Evaluate(path, new DecisionThresholds(Math.Min(0.999f, score + 0.001f)), everywhere);
        var rejected = Evaluate(path, new DecisionThresholds(Math.Max(0.001f, score - 0.001f)), everywhere);

        Assert.Equal(passed.PredictedClass, rejected.PredictedClass);
        Assert.Empty(passed.Regions);
        Assert.NotEmpty(rejected.Regions);
    }

    [Fact]
    public void Fused_layercam_region_thresholds_calibrate_on_good_parts_as_cams_do()
    {
        var goods = Enumerable.Range(0, 3).Select(seed =>
        {
            string path = folder.File($"good-{seed}.png");
            using var image = new Mat(64, 80, MatType.CV_8UC3);
            Cv2.SetTheRNG((ulong)seed + 10);
            Cv2.Randu(image, Scalar.All(0), Scalar.All(255));
            Cv2.ImWrite(path, image);
            return new LabelledImage(path, LabelledImage.GoodKind, null);
        }).ToList();
        // Every part rejected, so every part's regions are extracted; the region threshold alone decides which get any.
        var rejectAll = new DecisionThresholds(0.001f);

        var validation = Evaluate(goods, rejectAll, new RegionSettings(), "layercam", "layer2,layer3,layer4");
        // The middle good peak: the hottest good part keeps a region, the other two do not.
        var calibrated = RegionCalibrator.Calibrate(validation, peakQuantile: 0.5, minArea: 1);
        var peaks = validation.Select(o => o.FrameHeat!.Max()).ToArray();
        var served = Evaluate(goods, rejectAll, calibrated, "layercam", "layer2,layer3,layer4");

        Assert.Equal(ThresholdMode.Absolute, calibrated.Mode);
        Assert.Equal(3, peaks.Distinct().Count());
        for (int i = 0; i < goods.Count; i++)
        {
            Assert.Equal(validation[i].FrameHeat!.Values, served[i].FrameHeat!.Values);
            Assert.Equal(peaks[i] == peaks.Max(), served[i].Regions.Count > 0);
        }
    }

    private float DefectScore(string path) => Evaluate(path, new DecisionThresholds(), new RegionSettings()).DefectScore;

    private static ImageOutcome Evaluate(string path, DecisionThresholds decision, RegionSettings regions) =>
        Assert.Single(Evaluate([new LabelledImage(path, "defect", null)], decision, regions, "cam", "layer4"));

    private static IReadOnlyList<ImageOutcome> Evaluate(IReadOnlyList<LabelledImage> images, DecisionThresholds decision, RegionSettings regions, string method, string layer)
    {
        manual_seed(1);
        var network = new GapResNet(Architecture.ResNet18, 2);
        network.eval();
        var metadata = new BundleMetadata
        {
            Name = "evaluator-test",
            Architecture = "resnet18",
            Classes = ["good", "defect"],
            GoodClass = "good",
            Preprocessing = Preprocessing.ImageNet(64, 64),
            Decision = decision,
            Regions = regions,
        };
        using var engine = new TorchEngine(InspectionModel.FromNetwork(network, metadata, CPU, "test"));
        return Evaluator.Run(new PartInspector(engine, method, layer), images, images.Count, null, CancellationToken.None);
    }
}
