namespace DefectInspector.Vision.Capture;

/// <summary>How a source behaves beyond what its source string says. Defaults suit a line-side daemon.</summary>
public sealed record SourceSettings
{
    /// <summary>file: start again at the end instead of ending the source.</summary>
    public bool Loop { get; init; } = true;

    /// <summary>file: and virtual: deliver frames at their native rate; false = as fast as the reader takes them.</summary>
    public bool RealTime { get; init; } = true;

    /// <summary>virtual: parts per second when <see cref="RealTime"/>.</summary>
    public double VirtualFps { get; init; } = 2;

    /// <summary>virtual: frame size in pixels.</summary>
    public int VirtualWidth { get; init; } = 640;

    public int VirtualHeight { get; init; } = 480;

    /// <summary>virtual: share of parts with a defect drawn on them.</summary>
    public double VirtualDefectRate { get; init; } = 0.25;

    /// <summary>virtual: the seed of the synthetic line, so a demo or a test sees the same parts each run.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>folder: where the source keeps its record of processed files (survives restarts).</summary>
    public string StateDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "defect-inspector");

    /// <summary>folder: move processed files into this subfolder of the watched folder; null = leave them and record their names.</summary>
    public string? ProcessedFolder { get; init; } = "processed";

    /// <summary>Network streams: how long to wait when opening or reading before the source counts as failed.</summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Network streams: the ffmpeg executable that receives and decodes them (a name looked up on PATH, or a path).
    /// OpenCV's own FFmpeg in the OpenCvSharp runtime package is built without network protocols.
    /// </summary>
    public string FfmpegPath { get; init; } = "ffmpeg";
}
