using System.Threading.Channels;
using DefectInspector.Host.Capture;
using DefectInspector.Host.Hmi;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Outbox;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Inspect;

/// <summary>
/// The line between capture and the outbox: inspection, rendering and storing, joined by bounded queues, each a loop
/// (<see cref="InspectionWorker"/>, <see cref="RenderWorker"/>, <see cref="OutboxWriter"/>). It starts before capture
/// and stops after it: what was captured drains into the outbox for up to Pipeline:DrainTimeoutSeconds, and a
/// triggered part still queued after that gets its timeout verdict.
/// </summary>
internal sealed class InspectionService(
    CameraSet cameras, LineModel line, ErrorVerdicts errors, SqliteOutbox outbox, IReviewSink reviews, ILiveView live, DecidedVerdicts decided,
    PipelineLoops loops, StageMonitor monitor, PipelineStats stats, IOptions<PipelineOptions> pipeline, IOptions<StorageOptions> storage,
    TimeProvider time, ILoggerFactory loggers) : IHostedService, IDisposable
{
    private readonly ILogger logger = loggers.CreateLogger<InspectionService>();
    private readonly CancellationTokenSource stop = new();
    private Task inspection = Task.CompletedTask;
    private Task drained = Task.CompletedTask;
    private Task archiveLoop = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellation)
    {
        var options = pipeline.Value;
        var inspected = Channel.CreateBounded<Inspection>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true, SingleWriter = true });
        var deliveries = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true, SingleWriter = true });
        var archive = CreateArchive();
        var intake = reviews.IsOpen ? new ReviewIntake(line.Serving.Metadata.GoodClass ?? "good") : null;
        inspection = loops.Run("inspection", new InspectionWorker(cameras.Queues, line.Inspector, inspected.Writer, errors, options, monitor, stats,
            loggers.CreateLogger<InspectionWorker>()).RunAsync, stop.Token);
        var render = loops.Run("render", new RenderWorker(inspected.Reader, deliveries.Writer, line.Composer, options, archive, intake, live, stats, decided,
            loggers.CreateLogger<RenderWorker>()).RunAsync, stop.Token);
        var publish = loops.Run("outbox", new OutboxWriter(deliveries.Reader, outbox, reviews, loggers.CreateLogger<OutboxWriter>()).RunAsync, stop.Token);
        drained = Task.WhenAll(inspection, render, publish);
        if (archive is not null)
            archiveLoop = PruneArchiveAsync(archive, stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellation)
    {
        var drainTimeout = TimeSpan.FromSeconds(pipeline.Value.DrainTimeoutSeconds);
        if (!await loops.WaitAsync(drained, drainTimeout, "drain"))
            logger.LogWarning("Frames still queued after {DrainSeconds} s are abandoned undecided (a folder source offers them again at the next start)", drainTimeout.TotalSeconds);
        await stop.CancelAsync();
        await loops.WaitAsync(drained, TimeSpan.FromSeconds(5), "cancel");
        await AnswerUndecidedTriggersAsync();
        await archiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        // The model is freed only when inspection has ended: a forward pass stuck in native code (what StallExit stops
        // the daemon for) still uses it, and freeing it under that call could crash the process on its way out.
        if (inspection.IsCompleted && line.IsLoaded) line.Engine.Dispose();
        stop.Dispose();
    }

    /// <summary>
    /// A triggered frame still queued when the drain time is up gets its error verdict (timeout) in the outbox, so the
    /// trigger is answered at the latest after the next start. Other abandoned frames are offered again by their source
    /// where it can.
    /// </summary>
    private async Task AnswerUndecidedTriggersAsync()
    {
        foreach (var queue in cameras.Queues)
            while (queue.Reader.TryRead(out var frame))
            {
                using (frame)
                    if (frame.Trigger is not null)
                        await errors.ReportAsync(frame, ResultCodes.Timeout, "the station stopped before the part was decided", CancellationToken.None);
            }
    }

    private SnapshotArchive? CreateArchive()
    {
        var o = storage.Value;
        return o.SnapshotArchiveDays == 0 ? null
            : new SnapshotArchive(o.SnapshotFolder, TimeSpan.FromDays(o.SnapshotArchiveDays), o.SnapshotArchiveMaxMegabytes * 1024L * 1024L, time, loggers.CreateLogger<SnapshotArchive>());
    }

    /// <summary>At start and every ten minutes: retention is in days, so pruning more often would only cost disk reads.</summary>
    private async Task PruneArchiveAsync(SnapshotArchive archive, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10));
        do
        {
            try
            {
                await Task.Run(archive.Prune, cancellation);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A folder someone else touched mid-prune: the next round sees the archive as it is then.
                logger.LogWarning("Snapshot archive {Folder} could not be pruned: {Reason}", archive.Folder, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellation));
    }
}
