using DefectInspector.Host.Capture;
using DefectInspector.Host.Hosting;
using DefectInspector.Publish;
using DefectInspector.Publish.Outbox;
using Microsoft.Extensions.Logging;
using Polly;

namespace DefectInspector.Host.Publish;

/// <summary>
/// The outcome of a triggered part that could not be inspected (capture failed, region of interest outside the frame,
/// inspection failed, the station stopped first): an <c>error</c> verdict and its event, stored in the outbox like any
/// verdict, so the PLC or MES that sent the trigger hears back even across a broker outage or a restart.
/// </summary>
internal sealed class ErrorVerdicts(LineModel line, SqliteOutbox outbox, PipelineStats stats, DecidedVerdicts decided, ILogger<ErrorVerdicts> logger)
{
    private readonly ResiliencePipeline<OutboxAppend> storeRetry = Backoff.Forever<OutboxAppend, OutboxWriteException>(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10), args =>
    {
        if (args.AttemptNumber == 0)
            logger.LogWarning("An error verdict waits: the outbox cannot store it ({Reason}); retrying with backoff", args.Outcome.Exception?.Message);
        return default;
    });

    public async Task ReportAsync(Guid id, string camera, TriggerRequest trigger, string frameRef, DateTimeOffset capturedAt, string resultCode, string error,
        CancellationToken cancellation)
    {
        var composed = line.Composer.ComposeError(id, camera, trigger, frameRef, capturedAt, resultCode, error);
        logger.LogError("Part {PartId} of camera {Camera} not inspected, {ResultCode}: {Reason}; error verdict {VerdictId}",
            trigger.Command?.PartId, camera, resultCode, error, id);
        await storeRetry.ExecuteAsync(_ => ValueTask.FromResult(outbox.Append(composed.Messages, OutboxPriority.Critical, null)), cancellation);
        stats.For(camera).Errored();
        decided.Publish(composed.Verdict);
    }

    /// <summary>The report above for a frame that was captured for a trigger and then failed.</summary>
    public Task ReportAsync(Frame frame, string resultCode, string error, CancellationToken cancellation) =>
        ReportAsync(frame.Id, frame.Camera, frame.Trigger!, frame.Source.FrameRef, frame.Source.CapturedAt, resultCode, error, cancellation);
}
