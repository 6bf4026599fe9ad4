using System.Diagnostics;
using DefectInspector.Core.Decision;
using DefectInspector.Core.Explain;
using DefectInspector.Core.Imaging;
using DefectInspector.Core.Regions;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Explain;
using DefectInspector.Vision.Imaging;
using DefectInspector.Vision.Regions;
using OpenCvSharp;

namespace DefectInspector.Inference.Inspect;

/// <summary>
/// The one inspection step, the same for the line, explain, evaluate and bench: frames are preprocessed, explained by the
/// engine in one batch, and each gets its prediction, its verdict and, when the verdict asks for them
/// (<see cref="VerdictRules.GetsRegions"/>), the regions hotter than good parts get.
/// </summary>
public sealed class PartInspector
{
    private readonly RegionSettings regions;

    /// <summary>
    /// Inspects with <paramref name="engine"/>'s model as it is served, or by <paramref name="method"/>, <paramref name="layer"/>
    /// and <paramref name="targetClass"/> where given. <paramref name="regions"/> replaces the model's region settings
    /// (calibration tries candidates). Throws <see cref="ArgumentException"/> naming what the engine cannot explain.
    /// </summary>
    public PartInspector(IInferenceEngine engine, string? method = null, string? layer = null, int? targetClass = null, RegionSettings? regions = null)
    {
        Engine = engine;
        Method = CamMethods.Canonical(method ?? engine.Metadata.Explainer.Method);
        Request = ExplainRequest.For(engine.Metadata, layer, targetClass);
        engine.CheckServes(Method, Request);
        this.regions = regions ?? engine.Metadata.Regions;
    }

    public IInferenceEngine Engine { get; }

    public string Method { get; }

    public ExplainRequest Request { get; }

    public string Layer => Request.Layer;

    /// <summary>The model's input for one frame; throws <see cref="ArgumentException"/> or <see cref="OpenCVException"/> on a frame it cannot take.</summary>
    public InputImage Preprocess(Mat frame) => Preprocessor.Preprocess(frame, Engine.Metadata.Preprocessing);

    /// <summary>Inspects <paramref name="frames"/> in one batch.</summary>
    public IReadOnlyList<PartInspection> Inspect(IReadOnlyList<Mat> frames, CancellationToken cancellation = default) =>
        Decide(frames.Select(Preprocess).ToList(), cancellation);

    /// <summary>Decides already preprocessed frames in one batch (regions in each frame's own pixels, from its source size).</summary>
    public IReadOnlyList<PartInspection> Decide(IReadOnlyList<InputImage> inputs, CancellationToken cancellation = default)
    {
        long start = Stopwatch.GetTimestamp();
        var explanation = Engine.Explain(inputs, Method, Request, cancellation);
        double inferenceMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var metadata = Engine.Metadata;
        var parts = new List<PartInspection>(inputs.Count);
        for (int i = 0; i < inputs.Count; i++)
        {
            long regionStart = Stopwatch.GetTimestamp();
            var prediction = Prediction.FromLogits(metadata.Classes, explanation.Logits[i], metadata.GoodClassIndex);
            var verdict = metadata.Decision.Decide(prediction.DefectScore);
            var heatmap = explanation.Heatmaps[i];
            IReadOnlyList<Region> found = verdict.GetsRegions()
                ? RegionExtractor.Extract(heatmap.Raw, inputs[i].SourceWidth, inputs[i].SourceHeight, regions)
                : [];
            parts.Add(new PartInspection(prediction, verdict, heatmap, found, inferenceMs, Stopwatch.GetElapsedTime(regionStart).TotalMilliseconds));
        }
        return parts;
    }
}

/// <summary>One part's answer: what the model says, what the line does, where it looked, and what it marks.</summary>
/// <param name="InferenceMs">The engine's time for the whole batch the part was in.</param>
public sealed record PartInspection(Prediction Prediction, Verdict Verdict, Heatmap Heatmap, IReadOnlyList<Region> Regions, double InferenceMs, double RegionsMs);
