using DefectInspector.Host.Hmi;

namespace DefectInspector.Host.Publish;

/// <summary>Where flagged parts go for an operator's review: the HMI's review queue when Hmi:Url is set, nowhere otherwise.</summary>
internal interface IReviewSink
{
    bool IsOpen { get; }

    /// <summary>Stores the part for review; throws <see cref="IOException"/> while it cannot (the line retries).</summary>
    void Add(FlaggedPart part);
}

/// <summary>A station without the HMI keeps no parts for review.</summary>
internal sealed class NoReviews : IReviewSink
{
    public bool IsOpen => false;

    public void Add(FlaggedPart part)
    {
    }
}
