namespace DefectInspector.Vision.Capture;

/// <summary>
/// Where frames come from: a camera, a stream, a video file, a watched folder or the virtual line. A source is
/// driven by one capture loop; it is opened, read until it ends or fails, and reopened by the caller with backoff.
/// </summary>
public interface IFrameSource : IDisposable
{
    /// <summary>What the source reads, for logs and status, with any credentials in a URL masked.</summary>
    string Description { get; }

    /// <summary>
    /// True for sources that keep producing whether anyone reads or not (cameras, network streams): when the
    /// pipeline is behind, their oldest frame is dropped. Files, folders and the virtual line wait for the reader.
    /// </summary>
    bool IsLive { get; }

    /// <summary>
    /// True for sources that offer a frame again after a restart, under the same <see cref="SourceFrame.FrameRef"/>,
    /// when it was read but never completed (a watched folder); the pipeline then gives it the id it had before.
    /// </summary>
    bool IsResumable => false;

    /// <summary>Opens (or reopens after a failure). Throws <see cref="FrameSourceException"/> naming the source.</summary>
    void Open();

    /// <summary>
    /// The next frame, blocking until one is there; null when the source has ended for good (a video file that does
    /// not loop). Throws <see cref="FrameSourceException"/> when the source fails (the caller reopens it) and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellation"/> fires.
    /// </summary>
    SourceFrame? Read(CancellationToken cancellation);

    /// <summary>
    /// The frame's verdict has been handed on: a folder source records its file as processed so that a restart
    /// never processes it again. Other sources ignore it.
    /// </summary>
    void Complete(SourceFrame frame);
}
