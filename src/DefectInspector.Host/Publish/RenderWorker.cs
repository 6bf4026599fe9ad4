using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using DefectInspector.Core.Decision;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Inspect;
using DefectInspector.Host.Options;
using DefectInspector.Publish.Outbox;
using DefectInspector.Vision.Rendering;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Beside inference: draws the heatmap snapshot (NG and uncertain parts, OK ones when configured), archives those of
/// parts that are not OK, composes the messages and hands them to the outbox. Frees the frame's pixels; the source
/// hears back once the outbox holds the messages.
/// </summary>
internal sealed class RenderWorker(
    ChannelReader<Inspection> input, ChannelWriter<Delivery> output, MessageComposer composer, PipelineOptions options, SnapshotArchive? archive,
    PipelineStats stats, ILogger logger)
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
                    bool routine = inspection.Verdict == Verdict.Ok;
                    if (!routine && snapshot is not null)
                        archive?.Save(frame.Camera, frame.Id.ToString(), inspection.DecidedAt, snapshot);
                    var source = frame.Source;
                    var origin = frame.Origin;
                    var pending = origin.IsResumable ? new PendingFrame(frame.Camera, source.FrameRef, frame.Id.ToString()) : null;
                    await output.WriteAsync(new Delivery(frame.Camera, source.FrameRef, messages, routine ? OutboxPriority.Routine : OutboxPriority.Critical,
                        pending, () => origin.Complete(source)), cancellation);
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
