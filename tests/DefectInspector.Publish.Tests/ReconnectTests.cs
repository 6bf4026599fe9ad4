using System.Diagnostics;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace DefectInspector.Publish.Tests;

/// <summary>A broker outage in the middle of a run of verdicts: nothing is lost, order per topic is kept.</summary>
public sealed class ReconnectTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Fifty_verdicts_published_across_a_broker_restart_all_arrive_in_order()
    {
        var topics = Samples.Topics();

        // Persistence on: the MES-like subscriber's session (clean start false, session expiry) survives the restart,
        // so Mosquitto queues what the publisher sends before the subscriber is back.
        using var broker = MosquittoBroker.Start(persistence: true);
        await using var mes = await TestSubscriber.ConnectAsync(broker.Port, [topics.Verdict("+")], clientId: "mes-1", sessionExpirySeconds: 300);
        var log = new ListLogger();
        await using var publisher = Publishers.Create(broker.Port, log);
        var changes = new List<bool>();
        publisher.ConnectionChanged += change => { lock (changes) { changes.Add(change.IsConnected); } };
        await publisher.StartAsync(CancellationToken.None);

        var ids = Enumerable.Range(0, 50).Select(_ => Guid.CreateVersion7().ToString()).ToArray();
        var clock = Stopwatch.StartNew();
        var publishing = Task.Run(async () =>
        {
            foreach (string id in ids)
            {
                await publisher.PublishAsync(OutgoingMessages.Verdict(topics, Samples.Verdict(id)), CancellationToken.None);
                await Task.Delay(20);
            }
        });

        await mes.WaitUntilAsync(r => r.Count >= 10, Publishers.Wait, "the first ten verdicts");
        broker.Stop();
        await PublisherTests.WaitUntil(() => { lock (changes) { return changes.Contains(false); } }, "the connection-lost event");
        await PublisherTests.WaitUntil(() => log.Has(LogLevel.Warning, "Cannot reach"), "a failed reconnect attempt");
        Assert.False(publishing.IsCompleted, "publishing should wait for the broker");
        Assert.False(publisher.IsConnected);
        broker.Restart();
        await mes.ReconnectAsync(Publishers.Wait);

        try
        {
            await publishing.WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            foreach (var (level, message) in log.Entries)
            {
                output.WriteLine($"{level}: {message}");
            }
        }

        await mes.WaitUntilAsync(r => r.Select(m => m.Correlation).Distinct().Count() == ids.Length, Publishers.Wait, "all 50 verdicts");

        // At least once: an id may repeat (sent again after a lost PUBACK); in order of first arrival.
        output.WriteLine($"{mes.Received.Count} deliveries of {ids.Length} verdicts in {clock.Elapsed.TotalSeconds:0.0} s");
        var firstArrivals = mes.Received.Select(m => MessageJson.Deserialize<VerdictMessage>(m.Payload).Id).Distinct().ToArray();
        Assert.Equal(ids, firstArrivals);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
        lock (changes)
        {
            Assert.Equal([true, false, true], changes);
        }

        // The outage logged one warning for the loss, at most a few for the reasons of failed attempts, and the restore.
        Assert.InRange(log.Count(LogLevel.Warning), 1, 3);
        Assert.True(log.Has(LogLevel.Information, "restored"));
    }
}
