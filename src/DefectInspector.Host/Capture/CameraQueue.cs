using System.Threading.Channels;
using DefectInspector.Host.Hosting;

namespace DefectInspector.Host.Capture;

/// <summary>
/// The frames of one camera waiting for inspection. A live, continuous camera drops its oldest frame when the
/// pipeline is behind (counted); files, folders and triggered cameras wait instead, so no part is skipped.
/// </summary>
internal sealed class CameraQueue
{
    private readonly Channel<Frame> channel;

    public CameraQueue(string camera, int capacity, bool dropOldest, PipelineStats.CameraCounters counters)
    {
        Camera = camera;
        var options = new BoundedChannelOptions(capacity)
        {
            FullMode = dropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        };
        channel = Channel.CreateBounded<Frame>(options, dropped =>
        {
            counters.Dropped();
            dropped.Dispose();
        });
    }

    public string Camera { get; }

    public ChannelReader<Frame> Reader => channel.Reader;

    public ChannelWriter<Frame> Writer => channel.Writer;

    public ValueTask WriteAsync(Frame frame, CancellationToken cancellation) => channel.Writer.WriteAsync(frame, cancellation);
}
