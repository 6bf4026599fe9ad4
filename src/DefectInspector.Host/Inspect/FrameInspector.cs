using System.Diagnostics;
using DefectInspector.Core.Decision;
using DefectInspector.Core.Imaging;
using DefectInspector.Core.Regions;
using DefectInspector.Host.Capture;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using DefectInspector.Vision.Imaging;
using DefectInspector.Vision.Regions;
using Microsoft.Extensions.Logging;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DefectInspector.Host.Inspect;

/// <summary>
/// Frames in, decisions out: preprocess, one forward pass with the class activation map for the whole batch,
/// then per frame the verdict and, for parts that are not OK, the regions hotter than good parts get.
/// </summary>
internal sealed class FrameInspector(InspectionModel model, CamMethod method, ExplainRequest request, ILogger logger)
{
    public string Method => method.Name;

    public string Layer => request.Layer;

    public InspectionModel Model => model;

    /// <summary>
    /// Inspects <paramref name="frames"/>. A frame that cannot be preprocessed is reported through
    /// <paramref name="failed"/> (and disposed by the caller); the others are decided together.
    /// </summary>
    public List<Inspection> Inspect(IReadOnlyList<Frame> frames, Action<Frame, Exception> failed, CancellationToken cancellation)
    {
        long start = Stopwatch.GetTimestamp();
        var inputs = new List<InputImage>(frames.Count);
        var accepted = new List<Frame>(frames.Count);
        foreach (var frame in frames)
        {
            try
            {
                inputs.Add(Preprocessor.Preprocess(frame.Image, model.Metadata.Preprocessing));
                accepted.Add(frame);
            }
            catch (Exception e) when (e is ArgumentException or OpenCVException)
            {
                failed(frame, e);
            }
        }
        var results = new List<Inspection>(accepted.Count);
        if (accepted.Count == 0) return results;
        double preprocessMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

        long inferStart = Stopwatch.GetTimestamp();
        Explanation explanation;
        using (NewDisposeScope())
            explanation = method.Explain(model.Network, model.ToBatch(inputs), request, cancellation);
        double inferenceMs = Stopwatch.GetElapsedTime(inferStart).TotalMilliseconds;
        var decidedAt = DateTimeOffset.UtcNow;

        for (int i = 0; i < accepted.Count; i++)
        {
            var frame = accepted[i];
            long regionStart = Stopwatch.GetTimestamp();
            var prediction = model.Predict(explanation.Logits[i]);
            var verdict = model.Metadata.Decision.Decide(prediction.DefectScore);
            var heatmap = explanation.Heatmaps[i];
            IReadOnlyList<Region> regions = verdict.GetsRegions()
                ? RegionExtractor.Extract(heatmap.Raw, frame.Image.Width, frame.Image.Height, model.Metadata.Regions)
                : [];
            var timings = new Dictionary<string, double>
            {
                ["queue"] = Ms(Stopwatch.GetElapsedTime(frame.EnqueuedAt, start)),
                ["preprocess"] = Ms(preprocessMs / accepted.Count),
                ["inference"] = Ms(inferenceMs),
                ["regions"] = Ms(Stopwatch.GetElapsedTime(regionStart).TotalMilliseconds),
            };
            if (regions.Count == 0 && verdict.GetsRegions())
                logger.LogDebug("Frame {FrameId} of {Camera} is {Verdict} without a region above the calibrated threshold", frame.Id, frame.Camera, verdict);
            results.Add(new Inspection(frame, prediction, verdict, heatmap, regions, decidedAt, timings));
        }
        return results;
    }

    private static double Ms(TimeSpan t) => Ms(t.TotalMilliseconds);

    private static double Ms(double ms) => Math.Round(ms, 2);
}
