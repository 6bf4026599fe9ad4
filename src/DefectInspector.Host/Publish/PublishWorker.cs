using System.Threading.Channels;
using DefectInspector.Publish;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Publishes each frame's messages in decision order and waits for the broker's acknowledgement of each; only then
/// is the frame done at its source. While the broker is away the publisher waits, the queue fills, and inspection
/// waits behind it: a decided verdict is never thrown away.
/// </summary>
internal sealed class PublishWorker(ChannelReader<Delivery> input, IMessagePublisher publisher, ILogger logger)
{
    public async Task RunAsync(CancellationToken cancellation)
    {
        await foreach (var delivery in input.ReadAllAsync(cancellation))
        {
            foreach (var message in delivery.Messages)
            {
                try
                {
                    await publisher.PublishAsync(message, cancellation);
                }
                catch (MqttPublishRejectedException e)
                {
                    // The broker refused this topic (e.g. an ACL): retrying cannot help, and blocking would stop the line.
                    logger.LogError("Broker refused {Topic} for frame {FrameRef} of camera {Camera}: {Reason}", message.Topic, delivery.FrameRef, delivery.Camera, e.Message);
                }
            }
            delivery.Completed();
        }
    }
}
