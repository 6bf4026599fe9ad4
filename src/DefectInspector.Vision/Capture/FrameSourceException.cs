namespace DefectInspector.Vision.Capture;

/// <summary>A source that cannot be opened or read; the message names the source and what failed.</summary>
public sealed class FrameSourceException(string message, Exception? inner = null) : Exception(message, inner);
