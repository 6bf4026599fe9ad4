using DefectInspector.Host.Hosting;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Outbox;
using Microsoft.Extensions.Logging;
using Polly;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// Takes each recorded decision to MES and to the training data: the review message into the outbox (QoS 1, replayed
/// after a restart like verdicts), the part's files into the feedback folder, then marks it exported. Decisions left
/// unexported by a crash are taken at the next start; a message stored twice carries the same review id.
/// </summary>
internal sealed class ReviewExporter(ReviewStore store, SqliteOutbox outbox, FeedbackFolder feedback, Topics topics, ILogger<ReviewExporter> logger)
    : StoppableService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim decided = new(0);

    private readonly ResiliencePipeline<bool> retry = Backoff.Forever<bool, IOException>(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), args =>
    {
        logger.LogWarning("Review decisions wait: {Reason}; retrying in {DelaySeconds:0} s", args.Outcome.Exception?.Message, args.RetryDelay.TotalSeconds);
        return default;
    });

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        store.Changed += OnChanged;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        store.Changed -= OnChanged;
        await base.StopAsync(cancellationToken);
    }

    protected override async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            foreach (var part in store.Unexported())
                await retry.ExecuteAsync(_ => ValueTask.FromResult(Export(part)), stopping);
            await decided.WaitAsync(IdlePoll, stopping);
        }
    }

    private bool Export(StoredPart part)
    {
        var review = part.Review!;
        var message = ReviewMessage.Of(part.Verdict, review.Id, review.Disposition, review.Label, review.Comment, review.User, review.ReviewedAt);
        outbox.Append([OutgoingMessages.Review(topics, message)], OutboxPriority.Critical);
        string image;
        string? overlay;
        try
        {
            (image, overlay) = feedback.Store(part, review.Label);
        }
        catch (ArgumentException e)
        {
            // The decision still reaches MES; only the training copy is refused, and retrying would not change it.
            logger.LogError("Review {ReviewId} of part {VerdictId} is not filed as training data: {Reason}", review.Id, review.PartId, e.Message);
            store.Exported(review.Id, review.PartId, part.ImageFile, part.OverlayFile);
            return true;
        }
        store.Exported(review.Id, review.PartId, image, overlay);
        logger.LogInformation("Review {ReviewId} of part {VerdictId} ({Camera}, {FrameRef}): {Disposition} by {User}, stored as {Label} in {Feedback}",
            review.Id, review.PartId, part.Verdict.Camera, part.Verdict.FrameRef, review.Disposition, review.User, review.Label, feedback.Root);
        return true;
    }

    private void OnChanged(ReviewChange change)
    {
        if (change.Kind == ReviewChange.Reviewed) decided.Release();
    }

    public override void Dispose()
    {
        decided.Dispose();
        base.Dispose();
    }
}
