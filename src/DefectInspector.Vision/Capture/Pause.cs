namespace DefectInspector.Vision.Capture;

/// <summary>Waits that a stop request cuts short, so a capture loop never holds up shutdown by a poll interval.</summary>
internal static class Pause
{
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired before or during the wait.</exception>
    public static void For(TimeSpan delay, CancellationToken cancellation)
    {
        if (delay > TimeSpan.Zero)
            cancellation.WaitHandle.WaitOne(delay);
        cancellation.ThrowIfCancellationRequested();
    }
}
