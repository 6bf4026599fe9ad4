using System.Diagnostics;
using System.Threading.Channels;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish.Contracts;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DefectInspector.Host.Capture;

/// <summary>
/// The capture loop of one camera: opens its source (with backoff while it can't), applies trigger, frame-rate
/// limit and region of interest, stamps each frame with its id and hands it to the camera's queue.
/// <paramref name="pendingId"/> gives the id a resumable source's frame was stored under before a restart, if it was.
/// </summary>
internal sealed class CameraWorker(
    CameraOptions camera, IFrameSource source, CameraQueue queue, TriggerInbox? triggers,
    StageMonitor monitor, CameraStatusBoard status, PipelineStats.CameraCounters counters, Func<string, string?>? pendingId, ILogger logger)
{
    private readonly string stage = StageMonitor.CameraStage(camera.Name);
    private readonly TimeSpan minInterval = camera.MaxFps > 0 ? TimeSpan.FromSeconds(1 / camera.MaxFps) : TimeSpan.Zero;
    private readonly RegionOfInterest? roi = RegionOfInterest.TryParse(camera.Roi, out var r) ? r : null;
    private long lastAccepted;
    private bool roiWarned;

    private enum PumpEnd { Ended, Lost }

    public async Task RunAsync(CancellationToken stopping)
    {
        var reopen = Backoff.Forever<PumpEnd, FrameSourceException>(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), args =>
        {
            string reason = args.Outcome.Exception?.Message ?? "unknown";
            status.Set(camera.Name, CameraStates.Offline, reason);
            logger.LogWarning("Camera {Camera} unavailable (attempt {Attempt}), retrying in {DelaySeconds:0.0} s: {Reason}",
                camera.Name, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, reason);
            return default;
        });

        try
        {
            while (!stopping.IsCancellationRequested)
            {
                // A failure after frames flowed reconnects at once; failures before any frame back off (inside the retry).
                var end = await reopen.ExecuteAsync(async ct =>
                {
                    using (monitor.Busy(stage)) source.Open();
                    status.Set(camera.Name, CameraStates.Online);
                    logger.LogInformation("Camera {Camera} online: {Source}", camera.Name, source.Description);
                    return await PumpAsync(ct);
                }, stopping);
                if (end == PumpEnd.Ended)
                {
                    status.Set(camera.Name, CameraStates.Offline, "source ended");
                    logger.LogInformation("Camera {Camera}: source ended ({Source})", camera.Name, source.Description);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            queue.Writer.TryComplete();
        }
    }

    private async Task<PumpEnd> PumpAsync(CancellationToken stopping)
    {
        bool delivered = false;
        while (true)
        {
            TriggerInbox.Pending? trigger = null;
            if (triggers is not null && !source.IsLive)
                trigger = await triggers.ReadAsync(stopping);

            SourceFrame? read;
            try
            {
                using (monitor.Busy(stage)) read = source.Read(stopping);
            }
            catch (FrameSourceException e) when (delivered)
            {
                status.Set(camera.Name, CameraStates.Offline, e.Message);
                logger.LogWarning("Camera {Camera} lost, reconnecting: {Reason}", camera.Name, e.Message);
                return PumpEnd.Lost;
            }
            if (read is null) return PumpEnd.Ended;
            delivered = true;

            if (triggers is not null && source.IsLive)
            {
                // A live stream keeps running between triggers; the part is in the first frame grabbed after the command.
                trigger = triggers.TakeIfDue(read.CapturedAt);
                if (trigger is null)
                {
                    read.Dispose();
                    continue;
                }
            }
            else if (!await PaceAsync(read, stopping))
            {
                continue;
            }

            var frame = ToFrame(read, trigger?.Command.PartId);
            if (frame is null) continue;
            counters.Captured();
            await queue.WriteAsync(frame, stopping);
        }
    }

    /// <summary>Applies MaxFps: a live source's surplus frames are skipped, a non-live source is slowed down.</summary>
    private async Task<bool> PaceAsync(SourceFrame read, CancellationToken stopping)
    {
        if (minInterval == TimeSpan.Zero) return true;
        var since = lastAccepted == 0 ? TimeSpan.MaxValue : Stopwatch.GetElapsedTime(lastAccepted);
        if (since < minInterval)
        {
            if (source.IsLive)
            {
                read.Dispose();
                return false;
            }
            await Task.Delay(minInterval - since, stopping);
        }
        lastAccepted = Stopwatch.GetTimestamp();
        return true;
    }

    private Frame? ToFrame(SourceFrame read, string? partId)
    {
        Mat? cropped = null;
        if (roi is { } r)
        {
            var rect = new Rect(r.X, r.Y, r.Width, r.Height).Intersect(new Rect(0, 0, read.Image.Width, read.Image.Height));
            if (rect.Width < 32 || rect.Height < 32)
            {
                if (!roiWarned)
                    logger.LogError("Cameras {Camera} Roi '{Roi}' lies outside its {Width}x{Height} frames: expected a region inside the frame, at least 32x32; frames are skipped",
                        camera.Name, r, read.Image.Width, read.Image.Height);
                roiWarned = true;
                status.Set(camera.Name, CameraStates.Degraded, $"Roi {r} outside the {read.Image.Width}x{read.Image.Height} frame");
                source.Complete(read);
                read.Dispose();
                counters.Failed();
                return null;
            }
            cropped = new Mat(read.Image, rect).Clone();
        }
        return new Frame(IdFor(read), camera.Name, partId, read, cropped, source);
    }

    /// <summary>
    /// A frame stored in the outbox before a crash, but not recorded as done by its source, comes again: under its
    /// old id, so that the duplicate it causes is one a consumer de-duplicates.
    /// </summary>
    private Guid IdFor(SourceFrame read)
    {
        if (source.IsResumable && pendingId?.Invoke(read.FrameRef) is { } known && Guid.TryParse(known, out var id))
        {
            logger.LogInformation("Camera {Camera}: {FrameRef} was stored before the restart but not recorded as done; inspecting it again under its id {Id}",
                camera.Name, read.FrameRef, id);
            return id;
        }
        return Guid.CreateVersion7(read.CapturedAt);
    }
}
