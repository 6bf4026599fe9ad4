using System.Diagnostics;
using DefectInspector.Publish;
using DefectInspector.Vision.Capture;
using OpenCvSharp;

namespace DefectInspector.Host.Capture;

/// <summary>
/// A frame on its way through the pipeline: its identity (the verdict's id), camera, the trigger it answers (part id,
/// command id, context), the image to inspect (the region of interest when one is set) and the source frame, which
/// goes back to its source once published.
/// </summary>
internal sealed class Frame(Guid id, string camera, TriggerRequest? trigger, SourceFrame source, Mat? cropped, IFrameSource origin) : IDisposable
{
    public Guid Id { get; } = id;

    public string Camera { get; } = camera;

    /// <summary>The trigger this frame answers; null for continuous capture. Such a frame always ends in a verdict.</summary>
    public TriggerRequest? Trigger { get; } = trigger;

    public SourceFrame Source { get; } = source;

    public IFrameSource Origin { get; } = origin;

    public Mat Image => cropped ?? Source.Image;

    /// <summary>When the frame entered the pipeline (Stopwatch ticks), for queue and latency timings.</summary>
    public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

    public void Dispose()
    {
        cropped?.Dispose();
        Source.Dispose();
    }
}
