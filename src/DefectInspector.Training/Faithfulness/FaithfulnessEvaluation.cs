using DefectInspector.Core.Explain;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Inspect;
using DefectInspector.Inference.Model;
using DefectInspector.Training.Data;
using DefectInspector.Vision.Imaging;

namespace DefectInspector.Training.Faithfulness;

/// <summary>Faithfulness of the maps a <see cref="PartInspector"/> serves, on a seeded sample of the defective images (each costs about 50 forward passes).</summary>
public static class FaithfulnessEvaluation
{
    public static FaithfulnessSummary? Run(PartInspector inspector, IReadOnlyList<LabelledImage> images, int sample, FaithfulnessOptions options,
        Action<int, int>? progress, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sample);
        var random = new Random(options.Seed);
        var chosen = images.Where(i => i.IsDefect).OrderBy(i => i.Path, StringComparer.Ordinal).OrderBy(_ => random.Next()).Take(sample).ToList();
        if (chosen.Count == 0) return null;

        // Perturbed inputs need only the defect score: CAM's pass is the cheapest that gives it on either engine, and
        // neither a verdict nor regions are wanted for them.
        var engine = inspector.Engine;
        var metadata = engine.Metadata;
        var request = ExplainRequest.For(metadata, Layers.Last);
        var probe = new FaithfulnessProbe(inputs => engine.Explain(inputs, "cam", request, cancellation).Logits
            .Select(l => Prediction.FromLogits(metadata.Classes, l, metadata.GoodClassIndex).DefectScore).ToArray(), options);
        var measured = new List<ImageFaithfulness>(chosen.Count);
        foreach (var image in chosen)
        {
            cancellation.ThrowIfCancellationRequested();
            using var frame = ImageReader.Read(image.Path);
            var input = inspector.Preprocess(frame);
            var map = inspector.Decide([input], cancellation)[0].Heatmap.Raw;
            measured.Add(probe.Measure(input, map));
            progress?.Invoke(measured.Count, chosen.Count);
        }
        return FaithfulnessSummary.Of(inspector.Method, measured, options);
    }
}
