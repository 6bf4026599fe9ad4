using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Publish.Tests;

/// <summary>Trigger commands from the line: delivery to the handler, bad payloads, resubscription, retained ones.</summary>
public sealed class TriggerTests : StationTests
{
    [Fact]
    public async Task A_trigger_reaches_the_handler_and_malformed_ones_are_logged_and_ignored()
    {
        using var broker = MosquittoBroker.Start();
        var log = new ListLogger();
        await using var publisher = await Publishers.StartAsync(broker.Port, log);
        var triggers = new List<(string Camera, string PartId)>();
        await publisher.SubscribeTriggersAsync((camera, command) =>
        {
            lock (triggers)
            {
                triggers.Add((camera, command.PartId));
            }

            return command.PartId == "explode" ? throw new InvalidOperationException("handler bug") : Task.CompletedTask;
        }, CancellationToken.None);
        await using var line = await TestSubscriber.ConnectAsync(broker.Port, []);

        await line.PublishAsync(Topics.Trigger("top"), "this is not json");
        await line.PublishAsync(Topics.Trigger("top"), """{"part":"P-1"}""");
        await line.PublishAsync(Topics.Trigger("top"), """{"partId":"explode"}""");
        await line.PublishAsync(Topics.Trigger("side"), MessageJson.Serialize(new TriggerCommand("P-42")) is var bytes ? System.Text.Encoding.UTF8.GetString(bytes) : "");

        await PublisherTests.WaitUntil(() => { lock (triggers) { return triggers.Count == 2; } }, "two triggers");
        Assert.Equal([("top", "explode"), ("side", "P-42")], triggers);
        Assert.True(log.Has(LogLevel.Warning, $"bad payload on {Topics.Trigger("top")}"));
        Assert.Equal(2, log.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("Ignored a trigger", StringComparison.Ordinal)));
        Assert.True(log.Has(LogLevel.Error, "The trigger handler failed for camera top, part explode"));
        Assert.True(publisher.IsConnected);
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
        await publisher.SubscribeTriggersAsync((_, command) => { lock (parts) { parts.Add(command.PartId); } return Task.CompletedTask; }, CancellationToken.None);
        await publisher.StartAsync(CancellationToken.None);

        broker.Restart();
        await line.ReconnectAsync(Publishers.Wait);
        await PublisherTests.WaitUntil(() => Volatile.Read(ref connects) == 2, "reconnection");
        await line.PublishAsync(Topics.Trigger("top"), """{"partId":"fresh"}""");

        await PublisherTests.WaitUntil(() => { lock (parts) { return parts.Count == 1; } }, "the fresh trigger");
        await Task.Delay(200);
        Assert.Equal(["fresh"], parts);
    }
}
