using System.Text;
using System.Text.Json.Nodes;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Publish.Tests;

/// <summary>
/// Trigger commands from the line: delivery to the handler with what a reply needs, bad payloads, replies on the
/// response topic, resubscription, retained ones.
/// </summary>
public sealed class TriggerTests : StationTests
{
    [Fact]
    public async Task Every_trigger_reaches_the_handler_with_its_reply_details_and_malformed_ones_with_their_problem()
    {
        using var broker = MosquittoBroker.Start();
        var log = new ListLogger();
        await using var publisher = await Publishers.StartAsync(broker.Port, log);
        var requests = new List<TriggerRequest>();
        await publisher.SubscribeTriggersAsync(request =>
        {
            lock (requests)
            {
                requests.Add(request);
            }

            return request.Command?.PartId == "explode" ? throw new InvalidOperationException("handler bug") : Task.CompletedTask;
        }, CancellationToken.None);
        await using var line = await TestSubscriber.ConnectAsync(broker.Port, []);

        await line.PublishAsync(Topics.Trigger("top"), "this is not json");
        await line.PublishAsync(Topics.Trigger("top"), """{"part":"P-1"}""");
        await line.PublishAsync(Topics.Trigger("top"), """{"partId":"P-2","context":"lot 7"}""");
        await line.PublishAsync(Topics.Trigger("top"), "{\"partId\":\"P-3\",\"context\":{\"pad\":\"" + new string('x', MessageJson.MaxTriggerBytes) + "\"}}");
        await line.PublishAsync(Topics.Trigger("top"), """{"partId":"explode"}""");
        await line.PublishAsync(Topics.Trigger("side"), """{"partId":"P-42","commandId":"c-9","context":{"lot":"L-7","order":4711},"extra":1}""",
            responseTopic: "line/replies/7", correlation: [0, 1, 2, 255], expirySeconds: 30);

        await PublisherTests.WaitUntil(() => { lock (requests) { return requests.Count == 6; } }, "six triggers");
        Assert.Equal(["top", "top", "top", "top", "top", "side"], requests.Select(r => r.Camera));
        Assert.All(requests.Take(4), r => Assert.Null(r.Command));
        Assert.Contains("bad payload on " + Topics.Trigger("top"), requests[0].Problem, StringComparison.Ordinal);
        Assert.Contains("partId is missing", requests[1].Problem, StringComparison.Ordinal);
        Assert.Contains("context must be a JSON object", requests[2].Problem, StringComparison.Ordinal);
        Assert.Contains($"at most {MessageJson.MaxTriggerBytes}", requests[3].Problem, StringComparison.Ordinal);
        var side = requests[5];
        Assert.Equal(("P-42", "c-9"), (side.Command!.PartId, side.Command.CommandId));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"lot":"L-7","order":4711}"""), JsonNode.Parse(side.Command.Context!.Value.GetRawText())));
        Assert.Equal("line/replies/7", side.ResponseTopic);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, side.CorrelationData.ToArray());
        Assert.InRange(side.ExpiresIn!.Value.TotalSeconds, 25, 30);
        Assert.Null(requests[4].ExpiresIn);
        Assert.True(log.Has(LogLevel.Error, "The trigger handler failed for camera top, part explode"));
        Assert.True(publisher.IsConnected);
    }

    [Fact]
    public async Task A_reply_goes_to_the_response_topic_with_the_correlation_data_and_names_its_schema()
    {
        using var broker = MosquittoBroker.Start();
        await using var publisher = await Publishers.StartAsync(broker.Port);
        await publisher.SubscribeTriggersAsync(request =>
            publisher.ReplyAsync(request, Samples.Rejected() with { Camera = request.Camera, PartId = request.Command?.PartId }, CancellationToken.None), CancellationToken.None);
        await using var line = await TestSubscriber.ConnectAsync(broker.Port, ["line/replies/#"]);

        await line.PublishAsync(Topics.Trigger("top"), """{"partId":"P-1"}""", responseTopic: "line/replies/7", correlation: [9, 8, 7]);
        await line.PublishAsync(Topics.Trigger("top"), """{"partId":"P-2"}""");

        var reply = await line.WaitForAsync(m => m.Topic == "line/replies/7", Publishers.Wait, "the reply");
        await Task.Delay(300);
        Assert.Single(line.Received);
        Assert.Equal(new byte[] { 9, 8, 7 }, reply.CorrelationData);
        Assert.Equal("trigger-reply/" + SchemaVersion.Current, reply.Schema);
        Assert.Equal("application/json", reply.ContentType);
        ContractSchemas.AssertValid("trigger-reply", reply.Text);
        Assert.Equal("P-1", (string?)JsonNode.Parse(reply.Text)!["partId"]);
    }

    [Fact]
    public async Task Triggers_are_subscribed_again_after_a_reconnect_and_retained_ones_are_not_replayed()
    {
        using var broker = MosquittoBroker.Start();
        await using var line = await TestSubscriber.ConnectAsync(broker.Port, []);
        await line.PublishAsync(Topics.Trigger("top"), """{"partId":"stale"}""", retain: true);
        var log = new ListLogger();
        await using var publisher = Publishers.Create(broker.Port, log);
        int connects = 0;
        publisher.ConnectionChanged += change => { if (change.IsConnected) { Interlocked.Increment(ref connects); } };
        var parts = new List<string>();
        await publisher.SubscribeTriggersAsync(request => { lock (parts) { parts.Add(request.Command!.PartId); } return Task.CompletedTask; }, CancellationToken.None);
        await publisher.StartAsync(CancellationToken.None);

        broker.Restart();
        await line.ReconnectAsync(Publishers.Wait);
        await PublisherTests.WaitUntil(() => Volatile.Read(ref connects) == 2, "reconnection");
        await line.PublishAsync(Topics.Trigger("top"), """{"partId":"fresh"}""");

        await PublisherTests.WaitUntil(() => { lock (parts) { return parts.Count == 1; } }, "the fresh trigger");
        await Task.Delay(200);
        Assert.Equal(["fresh"], parts);
    }

    [Fact]
    public async Task A_retained_descriptor_is_published_again_after_a_broker_that_lost_it_comes_back()
    {
        using var broker = MosquittoBroker.Start();
        await using var publisher = await Publishers.StartAsync(broker.Port);
        await publisher.PublishRetainedAsync(OutgoingMessages.Config(Topics, Samples.Config()), CancellationToken.None);
        int connects = 1;
        publisher.ConnectionChanged += change => { if (change.IsConnected) { Interlocked.Increment(ref connects); } };

        broker.Restart(); // no persistence: the broker forgets retained messages
        await PublisherTests.WaitUntil(() => Volatile.Read(ref connects) == 2, "reconnection");
        await using var late = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Config]);

        var config = await late.WaitForAsync(m => m.Retain, Publishers.Wait, "the retained descriptor");
        Assert.Equal("config/" + SchemaVersion.Current, config.Schema);
        ContractSchemas.AssertValid("config", config.Text);
        Assert.Equal(Samples.ConfigHash, (string?)JsonNode.Parse(config.Text)!["configHash"]);
        Assert.Equal(Encoding.UTF8.GetString(MessageJson.Serialize(Samples.Config())), config.Text);
    }
}
