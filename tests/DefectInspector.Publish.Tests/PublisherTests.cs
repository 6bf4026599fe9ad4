using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using MQTTnet;

namespace DefectInspector.Publish.Tests;

/// <summary>The publisher against a real Mosquitto: delivery, MQTT 5 properties, retained status and the Last Will.</summary>
public sealed class PublisherTests : StationTests
{
    [Fact]
    public async Task A_verdict_arrives_with_content_type_and_correlation_data_and_a_snapshot_carries_the_verdict_id()
    {
        using var broker = MosquittoBroker.Start();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, [$"{Topics.Root}/verdict/+", $"{Topics.Root}/snapshot/+"]);
        var log = new ListLogger();
        await using var publisher = await Publishers.StartAsync(broker.Port, log);
        var verdict = Samples.Verdict();

        await publisher.PublishAsync(OutgoingMessages.Verdict(Topics, verdict), CancellationToken.None);
        await publisher.PublishAsync(OutgoingMessages.Snapshot(Topics, "top", verdict.Id, new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 }), CancellationToken.None);

        var received = await subscriber.WaitForAsync(m => m.Topic == Topics.Verdict("top"), Publishers.Wait, "verdict");
        Assert.Equal("application/json", received.ContentType);
        Assert.Equal(verdict.Id, received.Correlation);
        Assert.False(received.Retain);
        Assert.Equal(verdict.Id, MessageJson.Deserialize<VerdictMessage>(received.Payload).Id);

        var snapshot = await subscriber.WaitForAsync(m => m.Topic == Topics.Snapshot("top"), Publishers.Wait, "snapshot");
        Assert.Equal("image/jpeg", snapshot.ContentType);
        Assert.Equal(verdict.Id, snapshot.Correlation);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 }, snapshot.Payload);
        Assert.True(publisher.IsConnected);
        Assert.Equal("defect-inspector-plant-a-line-3-st1", publisher.ClientId);
    }

    [Fact]
    public async Task Status_is_retained_online_after_start_updated_on_request_and_offline_after_stop()
    {
        using var broker = MosquittoBroker.Start();
        var changes = new List<MqttConnectionChange>();
        await using var publisher = Publishers.Create(broker.Port, new ListLogger());
        publisher.ConnectionChanged += change => changes.Add(change);
        await publisher.StartAsync(CancellationToken.None);

        await using (var late = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Status]))
        {
            var online = await late.WaitForAsync(m => m.Retain, Publishers.Wait, "retained status");
            var status = Publishers.ReadStatus(online);
            Assert.Equal(("online", "0.1.0", "st1"), (status.State, status.Version, status.Station));
            Assert.Equal("application/json", online.ContentType);
        }

        await publisher.PublishStatusAsync(Samples.Status() with { Cameras = new Dictionary<string, string> { ["top"] = CameraStates.Offline } }, CancellationToken.None);
        await using (var late = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Status]))
        {
            var updated = Publishers.ReadStatus(await late.WaitForAsync(m => m.Retain, Publishers.Wait, "retained status"));
            Assert.Equal(CameraStates.Offline, updated.Cameras!["top"]);
            Assert.Equal("online", updated.State);
        }

        await publisher.StopAsync(CancellationToken.None);
        Assert.False(publisher.IsConnected);

        await using (var late = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Status]))
        {
            // The explicit offline status carries the version; the Last Will does not, so this also shows the will
            // was not sent after the clean disconnect.
            var offline = Publishers.ReadStatus(await late.WaitForAsync(m => m.Retain, Publishers.Wait, "retained status"));
            Assert.Equal(("offline", "0.1.0"), (offline.State, offline.Version));
            await Task.Delay(300);
            Assert.Single(late.Received);
        }

        Assert.Equal([true, false], changes.Select(c => c.IsConnected));
    }

    [Fact]
    public async Task The_last_will_marks_the_station_offline_when_its_connection_dies()
    {
        using var broker = MosquittoBroker.Start();
        await using var proxy = new TcpProxy(broker.Port);
        await using var watcher = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Status]);
        var log = new ListLogger();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero));
        await using var publisher = Publishers.Create(proxy.Port, log, time: clock);
        var changes = new List<MqttConnectionChange>();
        publisher.ConnectionChanged += change => changes.Add(change);
        await publisher.StartAsync(CancellationToken.None);
        await watcher.WaitForAsync(m => Publishers.ReadStatus(m).State == "online", Publishers.Wait, "online status");

        proxy.StopAccepting();
        proxy.CutAll();

        var will = await watcher.WaitForAsync(m => Publishers.ReadStatus(m).State == "offline", Publishers.Wait, "the Last Will");
        var status = Publishers.ReadStatus(will);
        Assert.Null(status.Version);
        Assert.Equal(("plant-a", "line-3", "st1"), (status.Site, status.Line, status.Station));
        Assert.Equal(clock.GetUtcNow(), status.At); // the will is stamped when its connection opened, by the publisher's clock
        Assert.Equal("application/json", will.ContentType);

        await using var late = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Status]);
        Assert.Equal("offline", Publishers.ReadStatus(await late.WaitForAsync(m => m.Retain, Publishers.Wait, "retained will")).State);

        await WaitUntil(() => changes.Any(c => !c.IsConnected), "the connection-lost event");
        Assert.False(publisher.IsConnected);
        Assert.True(log.Has(LogLevel.Warning, "lost"));
    }

    [Fact]
    public async Task A_first_connection_that_fails_names_host_port_and_reason_and_the_publisher_keeps_trying()
    {
        int port = MosquittoBroker.FreePort();
        var log = new ListLogger();
        await using var publisher = Publishers.Create(port, log);

        var error = await Assert.ThrowsAsync<MqttConnectException>(() => publisher.StartAsync(CancellationToken.None));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("connection refused", error.Message);

        // The caller decided that is not fatal: publishing waits for the broker to appear.
        var pending = publisher.PublishAsync(OutgoingMessages.Verdict(Topics, Samples.Verdict()), CancellationToken.None);
        await WaitUntil(() => log.Has(LogLevel.Debug, "reconnect to"), "a failed reconnect attempt");
        Assert.False(pending.IsCompleted);
        using var broker = MosquittoBroker.Start(port: port);
        await pending.WaitAsync(Publishers.Wait);
        Assert.True(publisher.IsConnected);
        Assert.Single(log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("Cannot connect"));
    }

    [Fact]
    public async Task Publishing_waits_while_disconnected_and_ends_when_cancelled_or_stopped()
    {
        var log = new ListLogger();
        await using var publisher = Publishers.Create(MosquittoBroker.FreePort(), log);
        await Assert.ThrowsAsync<MqttConnectException>(() => publisher.StartAsync(CancellationToken.None));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publisher.PublishAsync(OutgoingMessages.Verdict(Topics, Samples.Verdict()), cancel.Token));

        var waiting = publisher.PublishAsync(OutgoingMessages.Verdict(Topics, Samples.Verdict()), CancellationToken.None);
        await publisher.StopAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => waiting).WaitAsync(Publishers.Wait);
        Assert.Contains("stopped before the message", error.Message);
    }

    [Fact]
    public async Task A_publish_the_broker_refuses_throws_a_specific_exception_and_is_logged()
    {
        // Anonymous clients may write their own station's tree only.
        using var broker = MosquittoBroker.Start(
            extraConfig: "acl_file {dir}/acl",
            prepare: dir => File.WriteAllText(Path.Combine(dir, "acl"), $"topic readwrite {Topics.Root}/#\n"));
        var log = new ListLogger();
        await using var publisher = await Publishers.StartAsync(broker.Port, log);

        var refused = new OutgoingMessage("somewhere/else", new byte[] { 1 }, "application/octet-stream");
        var error = await Assert.ThrowsAsync<MqttPublishRejectedException>(() => publisher.PublishAsync(refused, CancellationToken.None)).WaitAsync(Publishers.Wait);

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, error.ReasonCode);
        Assert.Contains("somewhere/else", error.Message);
        Assert.True(log.Has(LogLevel.Error, "somewhere/else"));
        await publisher.PublishAsync(OutgoingMessages.Verdict(Topics, Samples.Verdict()), CancellationToken.None);
    }

    [Fact]
    public async Task Two_stations_on_one_broker_have_their_own_client_ids_and_topics()
    {
        using var broker = MosquittoBroker.Start();
        await using var everything = await TestSubscriber.ConnectAsync(broker.Port, ["#"]);
        await using var first = await Publishers.StartAsync(broker.Port, station: "st1");
        await using var second = await Publishers.StartAsync(broker.Port, station: "st2");
        var firstTriggers = new List<string>();
        var secondTriggers = new List<string>();
        await first.SubscribeTriggersAsync(request => { lock (firstTriggers) { firstTriggers.Add(request.Command!.PartId); } return Task.CompletedTask; }, CancellationToken.None);
        await second.SubscribeTriggersAsync(request => { lock (secondTriggers) { secondTriggers.Add(request.Command!.PartId); } return Task.CompletedTask; }, CancellationToken.None);

        Assert.NotEqual(first.ClientId, second.ClientId);
        await first.PublishAsync(OutgoingMessages.Verdict(Samples.Topics("st1"), Samples.Verdict()), CancellationToken.None);
        await second.PublishAsync(OutgoingMessages.Verdict(Samples.Topics("st2"), Samples.Verdict() with { Station = "st2" }), CancellationToken.None);
        await everything.PublishAsync(Samples.Topics("st1").Trigger("top"), """{"partId":"for-st1"}""");
        await everything.PublishAsync(Samples.Topics("st2").Trigger("top"), """{"partId":"for-st2"}""");

        await everything.WaitUntilAsync(r => r.Count(m => m.Topic.Contains("/verdict/", StringComparison.Ordinal)) == 2, Publishers.Wait, "both verdicts");
        await WaitUntil(() => firstTriggers.Count == 1 && secondTriggers.Count == 1, "one trigger each");
        Assert.Equal(["for-st1"], firstTriggers);
        Assert.Equal(["for-st2"], secondTriggers);
        Assert.True(first.IsConnected && second.IsConnected, "a shared client id would have made one take over the other's session");
        Assert.Contains(everything.Received, m => m.Topic == Samples.Topics("st1").Verdict("top"));
        Assert.Contains(everything.Received, m => m.Topic == Samples.Topics("st2").Verdict("top"));
    }

    internal static async Task WaitUntil(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Publishers.Wait)
            {
                throw new TimeoutException($"{what} did not happen within {Publishers.Wait.TotalSeconds} s");
            }

            await Task.Delay(20);
        }
    }
}
