using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using DefectInspector.Core.Decision;
using DefectInspector.Host.Hmi;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Inspect;
using DefectInspector.Host.Options;
using DefectInspector.Publish.Outbox;
using DefectInspector.Vision.Rendering;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Beside inference: draws the heatmap snapshot (NG and uncertain parts, OK ones when configured or while the HMI's live
/// view wants one), archives those of parts that are not OK, composes the messages and hands them to the outbox, with
/// the part for the review queue when the HMI is on. Frees the frame's pixels; the source hears back once the outbox
/// holds the messages.
/// </summary>
internal sealed class RenderWorker(
    ChannelReader<Inspection> input, ChannelWriter<Delivery> output, MessageComposer composer, PipelineOptions options, SnapshotArchive? archive,
    ReviewIntake? review, ILiveView live, PipelineStats stats, DecidedVerdicts decided, ILogger logger)
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
                    bool flagged = inspection.Verdict != Verdict.Ok;
                    bool published = flagged || options.SnapshotOk;
                    byte[]? snapshot = published || live.WantsOverlay(frame.Camera) ? Render(inspection) : null;
                    var timings = new Dictionary<string, double>(inspection.TimingsMs)
                    {
                        ["render"] = Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 2),
                        ["total"] = Math.Round(Stopwatch.GetElapsedTime(frame.EnqueuedAt).TotalMilliseconds, 2),
                    };
                    var composed = composer.Compose(inspection, published ? snapshot : null, timings);
                    stats.For(frame.Camera).Decided(inspection.Verdict, timings);
                    live.Decided(composed.Verdict, snapshot);
                    decided.Publish(composed.Verdict);
                    if (flagged && snapshot is not null)
                        archive?.Save(frame.Camera, frame.Id.ToString(), inspection.DecidedAt, snapshot);
                    var forReview = flagged && review is not null ? new FlaggedPart(composed.Verdict, review.GoodClass, Lossless(frame.Image), snapshot) : null;
                    var source = frame.Source;
                    var origin = frame.Origin;
                    var pending = origin.IsResumable ? new PendingFrame(frame.Camera, source.FrameRef, frame.Id.ToString()) : null;
                    await output.WriteAsync(new Delivery(frame.Camera, source.FrameRef, composed.Messages, flagged ? OutboxPriority.Critical : OutboxPriority.Routine,
                        pending, forReview, () => origin.Complete(source)), cancellation);
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

    /// <summary>The frame as inspected (after the region of interest), lossless: it becomes training data once reviewed.</summary>
    private static byte[] Lossless(OpenCvSharp.Mat image) => image.ImEncode(".png", [(int)OpenCvSharp.ImwriteFlags.PngCompression, 1]);

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
