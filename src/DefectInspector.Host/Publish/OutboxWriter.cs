using System.Threading.Channels;
using DefectInspector.Host.Hosting;
using DefectInspector.Publish.Outbox;
using Microsoft.Extensions.Logging;
using Polly;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Stores each frame's messages in the outbox, in decision order; only then is the frame done at its source, so a
/// crash never skips a part. While the outbox cannot be written (disk full) the frame waits and the append is retried
/// with backoff: the queue fills and inspection waits behind it, and the outbox raises an alarm until it recovers.
/// Publishing is the outbox dispatcher's job. A flagged part goes into the HMI's review queue before the frame is done
/// too, so a crash between the two offers the frame again (under its id) rather than losing the part for review.
/// </summary>
internal sealed class OutboxWriter(ChannelReader<Delivery> input, SqliteOutbox outbox, IReviewSink reviews, ILogger logger)
{
    private readonly ResiliencePipeline<OutboxAppend> storeRetry = Backoff.Forever<OutboxAppend, OutboxWriteException>(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10), args =>
    {
        // The alarm has been logged as an error already; this says that the line waits, once per outage.
        if (args.AttemptNumber == 0)
            logger.LogWarning("Frames wait: the outbox cannot store them ({Reason}); retrying with backoff", args.Outcome.Exception?.Message);
        return default;
    });

    private readonly ResiliencePipeline<bool> reviewRetry = Backoff.Forever<bool, IOException>(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10), args =>
    {
        if (args.AttemptNumber == 0)
            logger.LogWarning("Frames wait: the review queue cannot store a flagged part ({Reason}); retrying with backoff", args.Outcome.Exception?.Message);
        return default;
    });

    public async Task RunAsync(CancellationToken cancellation)
    {
        await foreach (var delivery in input.ReadAllAsync(cancellation))
        {
            var stored = await storeRetry.ExecuteAsync(_ => ValueTask.FromResult(outbox.Append(delivery.Messages, delivery.Priority, delivery.Pending)), cancellation);
            if (stored == OutboxAppend.Refused)
                logger.LogDebug("Outbox full of NG and uncertain messages: OK frame {FrameRef} of camera {Camera} not stored", delivery.FrameRef, delivery.Camera);
            if (delivery.Review is { } part)
                await reviewRetry.ExecuteAsync(_ => { reviews.Add(part); return ValueTask.FromResult(true); }, cancellation);
            delivery.Completed();
            if (delivery.Pending is { } pending)
                Forget(pending);
        }
    }

    private void Forget(PendingFrame pending)
    {
        try
        {
            outbox.Forget(pending);
        }
        catch (OutboxWriteException e)
        {
            // Only costs a stale record, which the outbox drops after days; the frame itself is done.
            logger.LogDebug("Could not forget pending frame {FrameRef} of {Source}: {Reason}", pending.FrameRef, pending.Source, e.Message);
        }
    }
}
