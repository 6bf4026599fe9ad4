using System.Diagnostics;
using System.Threading.Channels;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Station and camera status and stats go out beside the verdict stream, so a slow broker never holds up capture
/// callbacks. They are states, not records: when the queue is full during a long outage the oldest give way.
/// </summary>
internal sealed class StatusReporter(MqttPublisher publisher, ILogger<StatusReporter> logger)
{
    private readonly Channel<Update> queue = Channel.CreateBounded<Update>(new BoundedChannelOptions(256)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    public void Post(OutgoingMessage message) => queue.Writer.TryWrite(new TopicUpdate(message));

    public void Post(StatusMessage station) => queue.Writer.TryWrite(new StationUpdate(station));

    /// <summary>Publishes until <see cref="Complete"/> and the queue is empty, or cancellation.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        await foreach (var item in queue.Reader.ReadAllAsync(cancellation))
        {
            try
            {
                await (item switch
                {
                    StationUpdate station => publisher.PublishStatusAsync(station.Status, cancellation),
                    TopicUpdate topic => publisher.PublishAsync(topic.Message, cancellation),
                    _ => throw new UnreachableException(),
                });
            }
            catch (MqttPublishRejectedException e)
            {
                logger.LogError("Broker refused status on {Topic}: {Reason}", e.Topic, e.Message);
            }
        }
    }

    public void Complete() => queue.Writer.TryComplete();

    // The station's status is also kept by the publisher, which sends it again after every reconnect; camera status
    // and stats are plain messages.
    private abstract record Update;

    private sealed record StationUpdate(StatusMessage Status) : Update;

    private sealed record TopicUpdate(OutgoingMessage Message) : Update;
}
