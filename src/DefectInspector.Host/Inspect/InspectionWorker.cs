using System.Diagnostics;
using System.Threading.Channels;
using DefectInspector.Host.Capture;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Inspect;

/// <summary>
/// The one loop that owns the inference engine (neither engine is thread-safe): takes frames from all camera queues
/// round-robin, up to the batch size, waiting at most the latency budget for a batch to fill, and decides them.
/// Ends when every camera queue is complete and empty, so a stop drains what was captured. A triggered frame the model
/// fails on answers its trigger with an error verdict.
/// </summary>
internal sealed class InspectionWorker(
    IReadOnlyList<CameraQueue> queues, FrameInspector inspector, ChannelWriter<Inspection> output, ErrorVerdicts errors,
    PipelineOptions options, StageMonitor monitor, PipelineStats stats, ILogger logger)
{
    private readonly List<(Frame Frame, Exception Error)> failedTriggers = [];
    private int next;

    public async Task RunAsync(CancellationToken cancellation)
    {
        try
        {
            while (true)
            {
                var batch = await CollectAsync(cancellation);
                if (batch.Count == 0) return;
                List<Inspection> decided;
                try
                {
                    using (monitor.Busy("inspection"))
                        decided = inspector.Inspect(batch, Fail, cancellation);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A batch the model cannot take (e.g. out of memory) costs its frames, not the daemon.
                    foreach (var frame in batch) Fail(frame, e);
                    await AnswerFailedTriggersAsync();
                    continue;
                }
                await AnswerFailedTriggersAsync();
                foreach (var inspection in decided)
                    await output.WriteAsync(inspection, cancellation);
            }
        }
        finally
        {
            output.TryComplete();
        }
    }

    private void Fail(Frame frame, Exception e)
    {
        logger.LogError(e, "Frame {FrameRef} of camera {Camera} skipped: {Reason}", frame.Source.FrameRef, frame.Camera, e.Message);
        stats.For(frame.Camera).Failed();
        if (frame.Trigger is not null)
        {
            failedTriggers.Add((frame, e));
            return;
        }
        frame.Origin.Complete(frame.Source);
        frame.Dispose();
    }

    private async Task AnswerFailedTriggersAsync()
    {
        foreach (var (frame, error) in failedTriggers)
        {
            try
            {
                await errors.ReportAsync(frame, ResultCodes.InspectionFailed, error.Message, CancellationToken.None);
            }
            finally
            {
                frame.Origin.Complete(frame.Source);
                frame.Dispose();
            }
        }
        failedTriggers.Clear();
    }

    private async Task<List<Frame>> CollectAsync(CancellationToken cancellation)
    {
        var batch = new List<Frame>(options.MaxBatchSize);
        while (batch.Count == 0)
        {
            TakeRoundRobin(batch);
            if (batch.Count > 0) break;
            if (!await WaitForAnyAsync(Timeout.InfiniteTimeSpan, cancellation)) return batch;
        }
        long deadline = Stopwatch.GetTimestamp() + (long)(options.BatchLatencyMs / 1000.0 * Stopwatch.Frequency);
        while (batch.Count < options.MaxBatchSize)
        {
            TakeRoundRobin(batch);
            long remaining = deadline - Stopwatch.GetTimestamp();
            if (batch.Count >= options.MaxBatchSize || remaining <= 0) break;
            if (!await WaitForAnyAsync(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency), cancellation)) break;
        }
        return batch;
    }

    /// <summary>
    /// Waits until a queue has a frame or the timeout passes; false when every queue is complete. The waits left
    /// on idle queues are cancelled each time, or an idle camera would collect one waiter per batch for months.
    /// </summary>
    private async Task<bool> WaitForAnyAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        var open = queues.Where(q => !q.Reader.Completion.IsCompleted).ToList();
        if (open.Count == 0) return false;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (timeout != Timeout.InfiniteTimeSpan) wait.CancelAfter(timeout);
        await Task.WhenAny(open.Select(q => q.Reader.WaitToReadAsync(wait.Token).AsTask()));
        await wait.CancelAsync();
        cancellation.ThrowIfCancellationRequested();
        return true;
    }

    private void TakeRoundRobin(List<Frame> batch)
    {
        bool tookAny = true;
        while (batch.Count < options.MaxBatchSize && tookAny)
        {
            tookAny = false;
            for (int i = 0; i < queues.Count && batch.Count < options.MaxBatchSize; i++)
            {
                var queue = queues[(next + i) % queues.Count];
                if (queue.Reader.TryRead(out var frame))
                {
                    batch.Add(frame);
                    tookAny = true;
                }
            }
            next = (next + 1) % queues.Count;
        }
    }
}
