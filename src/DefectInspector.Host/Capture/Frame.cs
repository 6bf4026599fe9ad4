using System.Diagnostics;
using DefectInspector.Vision.Capture;
using OpenCvSharp;

namespace DefectInspector.Host.Capture;

/// <summary>
/// A frame on its way through the pipeline: its identity (the verdict's id), camera and part, the image to inspect
/// (the region of interest when one is set) and the source frame, which goes back to its source once published.
/// </summary>
internal sealed class Frame(Guid id, string camera, string? partId, SourceFrame source, Mat? cropped, IFrameSource origin) : IDisposable
{
    public Guid Id { get; } = id;

    public string Camera { get; } = camera;

    public string? PartId { get; } = partId;

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
