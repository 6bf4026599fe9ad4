using System.Diagnostics;

namespace DefectInspector.Vision.Capture;

/// <summary>Hands out frames no faster than a frame rate, as a camera on a running line would.</summary>
internal sealed class FramePacer
{
    private readonly long intervalTicks;
    private long? due;

    public FramePacer(double framesPerSecond)
    {
        if (!double.IsFinite(framesPerSecond) || framesPerSecond <= 0)
            throw new ArgumentOutOfRangeException(nameof(framesPerSecond), framesPerSecond, "expected a frame rate above 0");
        intervalTicks = (long)Math.Round(Stopwatch.Frequency / framesPerSecond);
    }

    /// <summary>Makes the next frame due at once, as after opening a source.</summary>
    public void Restart() => due = null;

    /// <summary>Blocks until the next frame is due. The first frame is due at once.</summary>
    public void WaitForNextFrame(CancellationToken cancellation)
    {
        var now = Stopwatch.GetTimestamp();
        if (this.due is { } due && due > now)
        {
            Pause.For(Stopwatch.GetElapsedTime(now, due), cancellation);
            now = due;
        }

        // A reader that fell behind gets the next frame one interval later, not a burst to catch up: a line does
        // not speed up because inspection was slow.
        this.due = now + intervalTicks;
    }
}
