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
    private readonly Channel<object> queue = Channel.CreateBounded<object>(new BoundedChannelOptions(256)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    public void Post(OutgoingMessage message) => queue.Writer.TryWrite(message);

    public void Post(StatusMessage station) => queue.Writer.TryWrite(station);

    /// <summary>Publishes until <see cref="Complete"/> and the queue is empty, or cancellation.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        await foreach (var item in queue.Reader.ReadAllAsync(cancellation))
        {
            try
            {
                if (item is StatusMessage station)
                    await publisher.PublishStatusAsync(station, cancellation);
                else
                    await publisher.PublishAsync((OutgoingMessage)item, cancellation);
            }
            catch (MqttPublishRejectedException e)
            {
                logger.LogError("Broker refused status on {Topic}: {Reason}", e.Topic, e.Message);
            }
        }
    }

    public void Complete() => queue.Writer.TryComplete();
}
