using DefectInspector.Host.Publish;

namespace DefectInspector.Host.Hmi;

/// <summary>The line's flagged parts into the HMI's review queue.</summary>
internal sealed class ReviewQueueSink(ReviewStore store) : IReviewSink
{
    public bool IsOpen => true;

    public void Add(FlaggedPart part) => store.Add(part);
}
