using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Inspect;
using DefectInspector.Core.Decision;
using DefectInspector.Core.Imaging;
using DefectInspector.Core.Regions;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
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

    private float DefectScore(string path) => Evaluate(path, new DecisionThresholds(), new RegionSettings()).DefectScore;

    private static ImageOutcome Evaluate(string path, DecisionThresholds decision, RegionSettings regions)
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
        var outcomes = Evaluator.Run(new PartInspector(engine, "cam", "layer4"), [new LabelledImage(path, "defect", null)], 1, null, CancellationToken.None);
        return Assert.Single(outcomes);
    }
}
