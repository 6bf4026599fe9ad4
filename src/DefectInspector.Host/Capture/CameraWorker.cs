using System.Diagnostics;
using System.Globalization;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish.Contracts;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DefectInspector.Host.Capture;

/// <summary>
/// The capture loop of one camera: opens its source (with backoff and a circuit breaker while it can't), applies
/// trigger, frame-rate limit and region of interest, stamps each frame with its id and hands it to the camera's queue.
/// A live source's read stuck past Pipeline:StallTimeoutSeconds is reported and abandoned, and the source reopened.
/// <paramref name="pendingId"/> gives the id a resumable source's frame was stored under before a restart, if it was.
/// </summary>
internal sealed class CameraWorker(
    CameraOptions camera, IFrameSource source, CameraQueue queue, TriggerInbox? triggers, PipelineOptions pipeline,
    StageMonitor monitor, CameraStatusBoard status, PipelineStats.CameraCounters counters, Func<string, string?>? pendingId, ILogger logger)
{
    // Five failed attempts take about 15 s of backoff, plus up to 10 s each for a stream that times out: two minutes
    // hold them all, so a camera that is away opens the circuit, one that fails now and then does not.
    private const int CircuitFailures = 5;
    private static readonly TimeSpan CircuitWindow = TimeSpan.FromMinutes(2);

    private readonly string stage = StageMonitor.CameraStage(camera.Name);
    private readonly TimeSpan stallLimit = TimeSpan.FromSeconds(pipeline.StallTimeoutSeconds);
    private readonly TimeSpan minInterval = camera.MaxFps > 0 ? TimeSpan.FromSeconds(1 / camera.MaxFps) : TimeSpan.Zero;
    private readonly RegionOfInterest? roi = RegionOfInterest.TryParse(camera.Roi, out var r) ? r : null;
    private long lastAccepted;
    private bool roiWarned;

    private enum PumpEnd { Ended, Lost, Stalled }

    public async Task RunAsync(CancellationToken stopping)
    {
        var reopen = Backoff.Forever<Task<PumpEnd>, FrameSourceException>(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), args =>
        {
            string reason = args.Outcome.Exception?.Message ?? "unknown";
            status.Set(camera.Name, CameraStates.Offline, reason);
            logger.LogWarning("Camera {Camera} unavailable (attempt {Attempt}), retrying in {DelaySeconds:0.0} s: {Reason}",
                camera.Name, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, reason);
            return default;
        }, Circuit());

        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var pumping = await reopen.ExecuteAsync(OpenAsync, stopping);
                var end = await pumping;
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

    private CircuitBreak Circuit() => new(CircuitFailures, CircuitWindow, TimeSpan.FromSeconds(pipeline.CameraBreakSeconds),
        Opened: (error, next) =>
        {
            string reason = error?.Message ?? "unknown";
            status.Set(camera.Name, CameraStates.Offline, string.Create(CultureInfo.InvariantCulture, $"circuit open, next attempt at {next:HH:mm:ss} UTC: {reason}"));
            logger.LogWarning("Camera {Camera}: circuit open, no attempt for {BreakSeconds} s, next at {NextAttempt:O}: {Reason}",
                camera.Name, pipeline.CameraBreakSeconds, next, reason);
        },
        HalfOpened: () => logger.LogInformation("Camera {Camera}: circuit half-open, one attempt", camera.Name),
        Closed: () => logger.LogInformation("Camera {Camera}: circuit closed", camera.Name));

    /// <summary>
    /// One attempt: opens the source and pumps it until the first frame is read. The pump goes on after the attempt,
    /// so that only a failure before any frame backs off and counts against the circuit; one after frames flowed
    /// reconnects at once.
    /// </summary>
    private async ValueTask<Task<PumpEnd>> OpenAsync(CancellationToken stopping)
    {
        using (monitor.Busy(stage)) source.Open();
        status.Set(camera.Name, CameraStates.Online);
        logger.LogInformation("Camera {Camera} online: {Source}", camera.Name, source.Description);
        var firstFrame = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pump = Task.Run(() => PumpAsync(firstFrame, stopping), CancellationToken.None);
        await Task.WhenAny(firstFrame.Task, pump);
        if (pump.IsFaulted) await pump;
        return pump;
    }

    private async Task<PumpEnd> PumpAsync(TaskCompletionSource firstFrame, CancellationToken stopping)
    {
        while (true)
        {
            TriggerInbox.Pending? trigger = null;
            if (triggers is not null && !source.IsLive)
                trigger = await triggers.ReadAsync(stopping);

            SourceFrame? read;
            try
            {
                read = Read(stopping);
            }
            catch (FrameSourceException e) when (firstFrame.Task.IsCompleted)
            {
                status.Set(camera.Name, CameraStates.Offline, e.Message);
                logger.LogWarning("Camera {Camera} lost, reconnecting: {Reason}", camera.Name, e.Message);
                return PumpEnd.Lost;
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                if (!firstFrame.Task.IsCompleted)
                    throw new FrameSourceException(string.Create(CultureInfo.InvariantCulture, $"camera {source.Description}: no frame within {stallLimit.TotalSeconds:0} s of opening"));
                logger.LogWarning("Camera {Camera}: stuck read abandoned, reopening {Source}", camera.Name, source.Description);
                return PumpEnd.Stalled;
            }
            if (read is null) return PumpEnd.Ended;
            firstFrame.TrySetResult();

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

    /// <summary>
    /// A live source's read that has not returned within the stall limit is reported (the camera is degraded) and
    /// cancelled: a network stream returns at once and is reopened; a read stuck in a driver call cannot be cancelled,
    /// and Pipeline:StallExitSeconds ends that. A non-live source's read includes waiting for the next file, part or
    /// frame time, which is not a stall: it is neither timed nor watched.
    /// </summary>
    private SourceFrame? Read(CancellationToken stopping)
    {
        if (!source.IsLive) return source.Read(stopping);
        using var stall = new CancellationTokenSource(stallLimit);
        using var read = CancellationTokenSource.CreateLinkedTokenSource(stopping, stall.Token);
        // Registered after the linked source, so it runs before it (callbacks run newest first): degraded is
        // reported before the abandoned read lets the worker reopen the camera and report it online.
        using var stalled = stall.Token.Register(() =>
        {
            logger.LogError("Camera {Camera}: read stuck for more than {LimitSeconds} s, abandoning it", camera.Name, stallLimit.TotalSeconds);
            status.Set(camera.Name, CameraStates.Degraded, string.Create(CultureInfo.InvariantCulture, $"read stuck for more than {stallLimit.TotalSeconds:0} s"));
        });
        SourceFrame? frame;
        using (monitor.Busy(stage)) frame = source.Read(read.Token);
        if (stall.IsCancellationRequested)
        {
            logger.LogInformation("Camera {Camera}: reads return again", camera.Name);
            status.Set(camera.Name, CameraStates.Online);
        }
        return frame;
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
