using System.Threading.Channels;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Capture;

/// <summary>Trigger commands waiting for a triggered camera, in arrival order; none is ever dropped.</summary>
internal sealed class TriggerInbox
{
    private readonly Channel<Pending> channel = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    public sealed record Pending(TriggerCommand Command, DateTimeOffset ArrivedAt);

    public void Post(TriggerCommand command) => channel.Writer.TryWrite(new Pending(command, DateTimeOffset.UtcNow));

    public ValueTask<Pending> ReadAsync(CancellationToken cancellation) => channel.Reader.ReadAsync(cancellation);

    /// <summary>The oldest pending trigger if <paramref name="capturedAt"/> is not earlier than its arrival.</summary>
    public Pending? TakeIfDue(DateTimeOffset capturedAt) =>
        channel.Reader.TryPeek(out var next) && capturedAt >= next.ArrivedAt && channel.Reader.TryRead(out var taken) ? taken : null;
}
