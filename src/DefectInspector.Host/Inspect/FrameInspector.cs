using System.Diagnostics;
using DefectInspector.Core.Decision;
using DefectInspector.Core.Imaging;
using DefectInspector.Host.Capture;
using DefectInspector.Inference.Inspect;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DefectInspector.Host.Inspect;

/// <summary>
/// Frames in, decisions out, through the one <see cref="PartInspector"/>: a frame that cannot be preprocessed is set
/// aside on its own, the others are decided in one batch, and each decision carries the stage timings of its frame.
/// </summary>
internal sealed class FrameInspector(PartInspector inspector, ILogger logger)
{
    public string Method => inspector.Method;

    public string Layer => inspector.Layer;

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
                inputs.Add(inspector.Preprocess(frame.Image));
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

        var parts = inspector.Decide(inputs, cancellation);
        var decidedAt = DateTimeOffset.UtcNow;
        for (int i = 0; i < accepted.Count; i++)
        {
            var (frame, part) = (accepted[i], parts[i]);
            var timings = new Dictionary<string, double>
            {
                ["queue"] = Ms(Stopwatch.GetElapsedTime(frame.EnqueuedAt, start).TotalMilliseconds),
                ["preprocess"] = Ms(preprocessMs / accepted.Count),
                ["inference"] = Ms(part.InferenceMs),
                ["regions"] = Ms(part.RegionsMs),
            };
            if (part.Regions.Count == 0 && part.Verdict.GetsRegions())
                logger.LogDebug("Frame {FrameId} of {Camera} is {Verdict} without a region above the calibrated threshold", frame.Id, frame.Camera, part.Verdict);
            results.Add(new Inspection(frame, part.Prediction, part.Verdict, part.Heatmap, part.Regions, decidedAt, timings));
        }
        return results;
    }

    private static double Ms(double ms) => Math.Round(ms, 2);
}
