namespace DefectInspector.Host.Options;

/// <summary>Configuration section "Pipeline": batching, queues, snapshots and the watchdog.</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";

    /// <summary>Frames from all cameras inspected in one forward pass at most.</summary>
    public int MaxBatchSize { get; set; } = 4;

    /// <summary>How long the first frame of a batch may wait for more frames to join it.</summary>
    public int BatchLatencyMs { get; set; } = 10;

    /// <summary>Frames queued per camera before inspection; a live camera drops its oldest frame beyond this.</summary>
    public int QueueCapacity { get; set; } = 4;

    /// <summary>Publish a heatmap snapshot for OK parts too (NG and uncertain parts always get one).</summary>
    public bool SnapshotOk { get; set; }

    /// <summary>Snapshots wider than this are scaled down.</summary>
    public int SnapshotMaxWidth { get; set; } = 1024;

    public int SnapshotJpegQuality { get; set; } = 85;

    /// <summary>Seconds between stats messages; 0 = none.</summary>
    public int StatsIntervalSeconds { get; set; } = 30;

    /// <summary>
    /// A camera read or an inference batch that takes longer than this counts as stalled: watchdog pings stop, and a
    /// live camera's read is abandoned and the camera reopened.
    /// </summary>
    public int StallTimeoutSeconds { get; set; } = 30;

    /// <summary>A call stuck this long (one nothing can cancel, such as inference) stops the daemon with exit code 3; 0 = never.</summary>
    public int StallExitSeconds { get; set; } = 120;

    /// <summary>How long a camera that keeps failing to open is left alone (its circuit open) before one more attempt.</summary>
    public int CameraBreakSeconds { get; set; } = 60;

    /// <summary>On stop, how long queued frames may take to be decided and stored in the outbox.</summary>
    public int DrainTimeoutSeconds { get; set; } = 20;

    /// <summary>On stop, then, how long the outbox may take to publish what it holds; the rest waits for the next start.</summary>
    public int DeliveryDrainSeconds { get; set; } = 10;
}
