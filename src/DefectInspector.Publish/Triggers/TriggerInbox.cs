using System.Buffers;
using System.Text;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace DefectInspector.Publish.Triggers;

/// <summary>
/// The publisher's side of the trigger contract: the <c>trigger/+</c> subscription, turning each message into a
/// <see cref="TriggerRequest"/> for the handler, and the reply packet for a request (docs/mqtt.md, "Triggers").
/// </summary>
internal sealed class TriggerInbox
{
    private readonly IMqttClient client;
    private readonly Topics topics;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private Func<TriggerRequest, Task>? handler;

    public TriggerInbox(IMqttClient client, Topics topics, ILogger logger, TimeProvider time)
    {
        this.client = client;
        this.topics = topics;
        this.logger = logger;
        this.time = time;
        this.client.ApplicationMessageReceivedAsync += OnMessageReceivedAsync;
    }

    /// <summary>Whether a handler was set: only then does a connection subscribe.</summary>
    public bool HasHandler => Volatile.Read(ref handler) is not null;

    public void SetHandler(Func<TriggerRequest, Task> handler) => Volatile.Write(ref this.handler, handler);

    /// <summary>
    /// Subscribes with QoS 1; retained trigger messages are not sent (a stale trigger must not fire on connect). A
    /// refusal is logged, not thrown: the rest of the session still works.
    /// </summary>
    public async Task SubscribeAsync(CancellationToken cancellation)
    {
        string filter = topics.Trigger("+");
        var options = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(new MqttTopicFilterBuilder()
                .WithTopic(filter)
                .WithAtLeastOnceQoS()
                .WithRetainHandling(MqttRetainHandling.DoNotSendOnSubscribe))
            .Build();
        var result = await client.SubscribeAsync(options, cancellation).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if (item.ResultCode is not (MqttClientSubscribeResultCode.GrantedQoS1 or MqttClientSubscribeResultCode.GrantedQoS0))
            {
                logger.LogError("The MQTT broker refused the trigger subscription {Filter}: {ResultCode}", filter, item.ResultCode);
            }
        }
    }

    /// <summary>The reply to <paramref name="request"/> on the response topic it named, with its correlation data.</summary>
    public static MqttApplicationMessage Reply(TriggerRequest request, TriggerReply reply)
    {
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(request.ResponseTopic)
            .WithPayload(MessageJson.Serialize(reply))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .WithContentType(MessageJson.ContentType)
            .WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData)
            .WithUserProperty(SchemaVersion.UserProperty, new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(SchemaVersion.Of(ContractNames.TriggerReply))));
        if (!request.CorrelationData.IsEmpty)
        {
            builder.WithCorrelationData(request.CorrelationData.ToArray());
        }

        return builder.Build();
    }

    private async Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        string topic = e.ApplicationMessage.Topic;
        string prefix = topics.Trigger("");
        var handler = Volatile.Read(ref this.handler);
        if (handler is null || !topic.StartsWith(prefix, StringComparison.Ordinal) || topic.Length == prefix.Length || topic.IndexOf('/', prefix.Length) >= 0)
        {
            return;
        }

        var message = e.ApplicationMessage;
        TriggerCommand? command = null;
        string? problem = null;
        try
        {
            var payload = message.Payload;
            command = payload.Length > MessageJson.MaxTriggerBytes
                ? throw new MessageFormatException(topic, MessageJson.TriggerShape, $"the payload is {payload.Length} bytes, at most {MessageJson.MaxTriggerBytes}")
                : MessageJson.ParseTrigger(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), topic);
        }
        catch (MessageFormatException bad)
        {
            problem = bad.Message;
        }

        var request = new TriggerRequest(topic[prefix.Length..], topic, command, problem, message.ResponseTopic, message.CorrelationData ?? [],
            time.GetUtcNow(), message.MessageExpiryInterval == 0 ? null : TimeSpan.FromSeconds(message.MessageExpiryInterval));
        try
        {
            await handler(request).ConfigureAwait(false);
        }
        catch (Exception failure)
        {
            logger.LogError(failure, "The trigger handler failed for camera {Camera}, part {PartId}", request.Camera, command?.PartId);
        }
    }
}
