using System.Diagnostics;
using System.Globalization;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Publish;
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
/// A triggered camera (<paramref name="triggers"/>) answers each trigger it takes: accepted with the frame's id, or
/// expired; a part it took a trigger for and cannot deliver gets an error verdict.
/// </summary>
internal sealed class CameraWorker(
    CameraOptions camera, IFrameSource source, CameraQueue queue, CameraTriggers? triggers, PipelineOptions pipeline,
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
        // A non-live source's part read for a trigger that expired meanwhile waits here for the next trigger.
        SourceFrame? held = null;
        try
        {
            while (true)
            {
                TriggerInbox.Pending? trigger = null;
                if (triggers is not null && !source.IsLive)
                {
                    trigger = await triggers.Inbox.ReadAsync(stopping);
                    if (triggers.Desk.HasExpired(trigger, DateTimeOffset.UtcNow))
                    {
                        triggers.Desk.Expired(trigger);
                        continue;
                    }
                }

                SourceFrame? read;
                PumpEnd? end;
                try
                {
                    (read, end) = held is null ? ReadNext(firstFrame, stopping) : (held, null);
                    held = null;
                }
                catch (FrameSourceException e) when (trigger is not null)
                {
                    await FailAsync(trigger.Request, e.Message);
                    throw;
                }
                if (end is { } ended)
                {
                    if (trigger is not null) await FailAsync(trigger.Request, ended == PumpEnd.Ended ? "the source ended" : "the camera was lost while capturing");
                    return ended;
                }
                firstFrame.TrySetResult();

                if (triggers is not null && source.IsLive)
                {
                    // A live stream keeps running between triggers; the part is in the first frame grabbed after the command.
                    trigger = triggers.Inbox.TakeIfDue(read!.CapturedAt);
                    if (trigger is null || triggers.Desk.HasExpired(trigger, read.CapturedAt))
                    {
                        if (trigger is not null) triggers.Desk.Expired(trigger);
                        read.Dispose();
                        continue;
                    }
                }
                else if (trigger is not null)
                {
                    if (triggers!.Desk.HasExpired(trigger, read!.CapturedAt))
                    {
                        triggers.Desk.Expired(trigger);
                        held = read;
                        continue;
                    }
                }
                else if (!await PaceAsync(read!, stopping))
                {
                    continue;
                }

                var frame = await ToFrameAsync(read!, trigger?.Request);
                if (frame is null) continue;
                counters.Captured();
                await queue.WriteAsync(frame, stopping);
            }
        }
        finally
        {
            held?.Dispose();
        }
    }

    /// <summary>The next frame, or why the pump ends; a failure before the first frame throws (the open failed).</summary>
    private (SourceFrame? Read, PumpEnd? End) ReadNext(TaskCompletionSource firstFrame, CancellationToken stopping)
    {
        try
        {
            var read = Read(stopping);
            return read is null ? (null, PumpEnd.Ended) : (read, null);
        }
        catch (FrameSourceException e) when (firstFrame.Task.IsCompleted)
        {
            status.Set(camera.Name, CameraStates.Offline, e.Message);
            logger.LogWarning("Camera {Camera} lost, reconnecting: {Reason}", camera.Name, e.Message);
            return (null, PumpEnd.Lost);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            if (!firstFrame.Task.IsCompleted)
                throw new FrameSourceException(string.Create(CultureInfo.InvariantCulture, $"camera {source.Description}: no frame within {stallLimit.TotalSeconds:0} s of opening"));
            logger.LogWarning("Camera {Camera}: stuck read abandoned, reopening {Source}", camera.Name, source.Description);
            return (null, PumpEnd.Stalled);
        }
    }

    /// <summary>A trigger taken whose part cannot be captured: accepted, and answered by an error verdict.</summary>
    private async Task FailAsync(TriggerRequest trigger, string reason)
    {
        var id = Guid.CreateVersion7();
        triggers!.Desk.Accepted(trigger, id);
        counters.Failed();
        // Not the stopping token: a trigger the camera took is answered even when the daemon is on its way out.
        await triggers.Errors.ReportAsync(id, camera.Name, trigger, "-", DateTimeOffset.UtcNow, ResultCodes.CaptureFailed, reason, CancellationToken.None);
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

    private async Task<Frame?> ToFrameAsync(SourceFrame read, TriggerRequest? trigger)
    {
        var id = IdFor(read);
        if (trigger is not null) triggers!.Desk.Accepted(trigger, id);
        Mat? cropped = null;
        if (roi is { } r)
        {
            var rect = new Rect(r.X, r.Y, r.Width, r.Height).Intersect(new Rect(0, 0, read.Image.Width, read.Image.Height));
            if (rect.Width < 32 || rect.Height < 32)
            {
                string problem = $"Roi {r} lies outside the {read.Image.Width}x{read.Image.Height} frame: expected a region inside the frame, at least 32x32";
                if (!roiWarned)
                    logger.LogError("Cameras {Camera} Roi '{Roi}' lies outside its {Width}x{Height} frames: expected a region inside the frame, at least 32x32; frames are skipped",
                        camera.Name, r, read.Image.Width, read.Image.Height);
                roiWarned = true;
                status.Set(camera.Name, CameraStates.Degraded, $"Roi {r} outside the {read.Image.Width}x{read.Image.Height} frame");
                counters.Failed();
                if (trigger is not null)
                    await triggers!.Errors.ReportAsync(id, camera.Name, trigger, read.FrameRef, read.CapturedAt, ResultCodes.RoiOutsideFrame, problem, CancellationToken.None);
                source.Complete(read);
                read.Dispose();
                return null;
            }
            cropped = new Mat(read.Image, rect).Clone();
        }
        return new Frame(id, camera.Name, trigger, read, cropped, source);
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

/// <summary>What a triggered camera needs beside its source: its inbox, the desk that answers, and the error verdicts.</summary>
internal sealed record CameraTriggers(TriggerInbox Inbox, TriggerDesk Desk, ErrorVerdicts Errors);
