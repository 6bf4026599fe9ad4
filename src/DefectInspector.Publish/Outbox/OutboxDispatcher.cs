using Microsoft.Extensions.Logging;

namespace DefectInspector.Publish.Outbox;

/// <summary>
/// Publishes the outbox in order, one message at a time, and removes each message once the broker has acknowledged
/// it. <see cref="IMessagePublisher.PublishAsync"/> waits while the broker is away, so after a reconnection (or a
/// restart, which begins at the oldest message) delivery resumes exactly where it stopped.
/// </summary>
/// <param name="time">The clock of the retry pauses; the system's unless a test brings its own.</param>
public sealed class OutboxDispatcher(SqliteOutbox outbox, IMessagePublisher publisher, ILogger logger, TimeProvider? time = null)
{
    private const int BatchSize = 64;

    // Appends wake the loop at once; the poll only bounds how long a missed wake-up could delay delivery.
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan RemoveRetry = TimeSpan.FromSeconds(1);

    private readonly TimeProvider time = time ?? TimeProvider.System;

    /// <summary>Runs until <paramref name="cancellation"/>; what is not acknowledged by then stays for the next start.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        long after = 0;
        while (!cancellation.IsCancellationRequested)
        {
            var batch = outbox.Read(after, BatchSize);
            if (batch.Count == 0)
            {
                await outbox.WaitForAppendAsync(IdlePoll, cancellation).ConfigureAwait(false);
                continue;
            }

            foreach (var entry in batch)
            {
                try
                {
                    await publisher.PublishAsync(entry.Message, cancellation).ConfigureAwait(false);
                }
                catch (MqttPublishRejectedException e)
                {
                    // The broker refused this topic (e.g. an ACL): sending it again cannot help, and keeping it would
                    // hold up every message behind it.
                    logger.LogError("Broker refused {Topic} (message {Correlation}); removed from the outbox: {Reason}", entry.Message.Topic, entry.Message.CorrelationId, e.Message);
                }

                await RemoveAsync(entry.Sequence, cancellation).ConfigureAwait(false);
                after = entry.Sequence;
            }
        }
    }

    private async Task RemoveAsync(long sequence, CancellationToken cancellation)
    {
        bool warned = false;
        while (true)
        {
            try
            {
                outbox.Remove(sequence);
                return;
            }
            catch (OutboxWriteException e)
            {
                // Published but still stored: a restart now would send it again (consumers de-duplicate on id).
                if (!warned)
                {
                    logger.LogWarning("A delivered message cannot be removed from the outbox, retrying: {Reason}", e.Message);
                }

                warned = true;
                await Task.Delay(RemoveRetry, time, cancellation).ConfigureAwait(false);
            }
        }
    }
}
