using System.Globalization;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// A production line without a camera: synthetic parts from <see cref="SyntheticLine"/>, some with defects, for
/// demos and for running the whole daemon where no camera is attached. Opening starts the line again from its seed.
/// </summary>
internal sealed class VirtualLine : IFrameSource
{
    private readonly SourceSettings settings;
    private readonly FramePacer? pacer;
    private SyntheticLine? line;
    private long parts;

    public VirtualLine(SourceSettings settings)
    {
        this.settings = settings;
        // Built here only to check the settings, so that a bad one fails at startup rather than at the first frame.
        _ = NewLine();
        if (settings.RealTime && !(double.IsFinite(settings.VirtualFps) && settings.VirtualFps > 0))
            throw new ArgumentOutOfRangeException(nameof(settings), settings.VirtualFps, "SourceSettings.VirtualFps: expected parts per second above 0");
        pacer = settings.RealTime ? new FramePacer(settings.VirtualFps) : null;
    }

    public string Description =>
        string.Create(CultureInfo.InvariantCulture, $"virtual ({settings.VirtualWidth}x{settings.VirtualHeight}, {settings.VirtualDefectRate:P0} defective, seed {settings.Seed})");

    public bool IsLive => false;

    public void Open()
    {
        line = NewLine();
        pacer?.Restart();
        parts = 0;
    }

    public SourceFrame? Read(CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var line = this.line ?? throw new FrameSourceException($"{Description}: not open; open it first");
        pacer?.WaitForNextFrame(cancellation);
        var part = line.Next();
        // The frame takes over the image; only the mask is left to dispose.
        part.DefectMask.Dispose();
        parts++;
        return new SourceFrame(part.Image, string.Create(CultureInfo.InvariantCulture, $"part-{parts:D6}"), DateTimeOffset.UtcNow);
    }

    public void Complete(SourceFrame frame)
    {
    }

    public void Dispose()
    {
    }

    private SyntheticLine NewLine() =>
        new(settings.VirtualWidth, settings.VirtualHeight, settings.VirtualDefectRate, settings.Seed);
}
