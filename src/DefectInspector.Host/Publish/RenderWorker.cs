using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using DefectInspector.Core.Decision;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Inspect;
using DefectInspector.Host.Options;
using DefectInspector.Vision.Rendering;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Beside inference: draws the heatmap snapshot (NG and uncertain parts, OK ones when configured), composes the
/// messages and hands them to publishing. Frees the frame's pixels; the source hears back after publishing.
/// </summary>
internal sealed class RenderWorker(
    ChannelReader<Inspection> input, ChannelWriter<Delivery> output, MessageComposer composer, PipelineOptions options, PipelineStats stats, ILogger logger)
{
    private readonly OverlayOptions overlay = new(MaxWidth: options.SnapshotMaxWidth, JpegQuality: options.SnapshotJpegQuality);

    public async Task RunAsync(CancellationToken cancellation)
    {
        try
        {
            await foreach (var inspection in input.ReadAllAsync(cancellation))
            {
                var frame = inspection.Frame;
                try
                {
                    long start = Stopwatch.GetTimestamp();
                    byte[]? snapshot = inspection.Verdict != Verdict.Ok || options.SnapshotOk ? Render(inspection) : null;
                    var timings = new Dictionary<string, double>(inspection.TimingsMs)
                    {
                        ["render"] = Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 2),
                        ["total"] = Math.Round(Stopwatch.GetElapsedTime(frame.EnqueuedAt).TotalMilliseconds, 2),
                    };
                    var messages = composer.Compose(inspection, snapshot, timings);
                    stats.For(frame.Camera).Decided(inspection.Verdict, timings);
                    var source = frame.Source;
                    var origin = frame.Origin;
                    await output.WriteAsync(new Delivery(frame.Camera, source.FrameRef, messages, () => origin.Complete(source)), cancellation);
                }
                finally
                {
                    frame.Dispose();
                }
            }
        }
        finally
        {
            output.TryComplete();
        }
    }

    private byte[]? Render(Inspection inspection)
    {
        var p = inspection.Prediction;
        string header = string.Create(CultureInfo.InvariantCulture,
            $"{MessageComposer.ToWire(inspection.Verdict).ToUpperInvariant()} {p.PredictedClassName} {p.DefectScore:0.00} {inspection.Frame.Camera} {inspection.Frame.Source.FrameRef}");
        try
        {
            return OverlayRenderer.Render(inspection.Frame.Image, inspection.Heatmap.Normalised, inspection.Regions, header, overlay);
        }
        catch (Exception e) when (e is ArgumentException or OpenCvSharp.OpenCVException)
        {
            // The verdict matters more than its picture: publish it without a snapshot.
            logger.LogError(e, "Snapshot of frame {FrameRef} of camera {Camera} could not be rendered", inspection.Frame.Source.FrameRef, inspection.Frame.Camera);
            return null;
        }
    }
}
