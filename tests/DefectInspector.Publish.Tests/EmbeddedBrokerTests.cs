using System.Net;
using System.Net.Sockets;

namespace DefectInspector.Publish.Tests;

public sealed class EmbeddedBrokerTests : StationTests
{
    [Fact]
    public async Task Publishes_and_subscribes_through_the_embedded_broker_on_loopback()
    {
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, new EmbeddedBrokerAccess(), new ListLogger());
        Assert.NotEqual(0, broker.Port);
        await using var subscriber = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Verdict("+")]);

        // An empty Mqtt:Host means the embedded broker: the publisher connects to its bind address.
        await using var publisher = await Publishers.StartAsync(broker.Port, new ListLogger(), configure: o => o.Host = "");
        var verdict = Samples.Verdict();
        await publisher.PublishAsync(OutgoingMessages.Verdict(Topics, verdict), CancellationToken.None);

        var received = await subscriber.WaitForAsync(_ => true, Publishers.Wait, "verdict");
        Assert.Equal(verdict.Id, received.Correlation);
        Assert.Equal("application/json", received.ContentType);
        await using var late = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Status]);
        Assert.Equal("online", Publishers.ReadStatus(await late.WaitForAsync(m => m.Retain, Publishers.Wait, "retained status")).State);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("user", null)]
    [InlineData("", "secret")]
    public async Task A_network_bind_without_credentials_refuses_to_start(string? username, string? password)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedBroker.StartAsync("0.0.0.0", 0, username, password, new EmbeddedBrokerAccess(), new ListLogger()));

        Assert.Contains("0.0.0.0", error.Message);
        Assert.Contains("Mqtt:Username and Mqtt:Password", error.Message);
    }

    [Fact]
    public async Task With_credentials_a_wrong_password_is_refused_and_the_right_one_works()
    {
        await using var broker = await EmbeddedBroker.StartAsync("0.0.0.0", 0, "station", "s3cret", new EmbeddedBrokerAccess(), new ListLogger());

        await using (var intruder = Publishers.Create(broker.Port, new ListLogger(), configure: o => (o.Username, o.Password) = ("station", "guess")))
        {
            var error = await Assert.ThrowsAsync<MqttConnectException>(() => intruder.StartAsync(CancellationToken.None));
            Assert.Contains("not authorised", error.Message);
            Assert.Contains($"127.0.0.1:{broker.Port}", error.Message);
            Assert.DoesNotContain("guess", error.Message);
        }

        string passwordFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(passwordFile, "s3cret\nsecond line is ignored\n");
        try
        {
            await using var station = await Publishers.StartAsync(broker.Port, new ListLogger(), configure: o => (o.Host, o.Username, o.PasswordFile) = ("", "station", passwordFile));
            await station.PublishAsync(OutgoingMessages.Verdict(Topics, Samples.Verdict()), CancellationToken.None);
            Assert.True(station.IsConnected);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => TestSubscriber.ConnectAsync(broker.Port, ["#"]));
    }

    [Fact]
    public async Task An_MQTT5_client_without_a_client_id_gets_one_assigned()
    {
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, new EmbeddedBrokerAccess(), new ListLogger());
        await using var anonymous = await TestSubscriber.ConnectAsync(broker.Port, ["#"], clientId: "");
        Assert.True(anonymous.IsConnected);
    }

    [Fact]
    public async Task A_port_in_use_says_which_and_what_to_set()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        int port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedBroker.StartAsync("127.0.0.1", port, null, null, new EmbeddedBrokerAccess(), new ListLogger()));

        Assert.Equal($"port {port} on 127.0.0.1 is in use: set Mqtt:Port or Mqtt:Host", error.Message);
    }

    [Fact]
    public async Task A_bind_address_that_is_not_an_address_is_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => EmbeddedBroker.StartAsync("broker.example", 0, null, null, new EmbeddedBrokerAccess(), new ListLogger()));

        Assert.Contains("broker.example", error.Message);
    }

    /// <summary>The station's rules as the daemon sets them: its client id reserved, others may publish triggers only.</summary>
    private static EmbeddedBrokerAccess StationRules(string daemonClientId, params BrokerUser[] users) => new()
    {
        ReservedClientIds = [daemonClientId],
        PublicTopics = [Topics.Trigger("+")],
        Users = users,
        MaxPacketBytes = 64 * 1024,
    };

    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task Only_the_daemon_publishes_the_stations_topics_others_may_trigger_and_subscribe()
    {
        await using var probe = Publishers.Create(1, new ListLogger(), configure: o => o.Host = "");
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, StationRules(probe.ClientId), new ListLogger());
        await using var daemon = await Publishers.StartAsync(broker.Port, new ListLogger(), configure: o => o.Host = "");
        await using var watcher = await TestSubscriber.ConnectAsync(broker.Port, ["#"]);
        await using var intruder = await TestSubscriber.ConnectAsync(broker.Port, []);

        var fake = Samples.Verdict() with { Id = "fake-verdict" };
        await intruder.PublishAsync(Topics.Verdict("cam1"), System.Text.Encoding.UTF8.GetString(MessageJson.Serialize(fake)));
        await intruder.PublishAsync(Topics.Status, """{"schema":"2.0","state":"offline"}""", retain: true);
        await intruder.PublishAsync("elsewhere/anything", "x");
        // mosquitto_pub, an independent client, is refused the same way.
        Tool.Run("mosquitto_pub", "the broker tests use mosquitto-clients (deploy/setup.sh installs it)",
            "-V", "mqttv5", "-h", "127.0.0.1", "-p", broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-q", "1",
            "-t", Topics.Event("cam1"), "-m", "{}");
        await intruder.PublishAsync(Topics.Trigger("cam1"), """{"partId":"P-1"}""");
        var real = Samples.Verdict();
        await daemon.PublishAsync(OutgoingMessages.Verdict(Topics, real), CancellationToken.None);

        await watcher.WaitForAsync(m => m.Topic == Topics.Trigger("cam1"), Publishers.Wait, "the trigger");
        await watcher.WaitForAsync(m => m.Correlation == real.Id, Publishers.Wait, "the daemon's verdict");
        await Task.Delay(Quiet);
        Assert.DoesNotContain(watcher.Received, m => m.Text.Contains("fake-verdict", StringComparison.Ordinal));
        Assert.DoesNotContain(watcher.Received, m => m.Topic == Topics.Event("cam1") || m.Topic == "elsewhere/anything");
        await using var late = await TestSubscriber.ConnectAsync(broker.Port, [Topics.Status]);
        Assert.Equal("online", Publishers.ReadStatus(await late.WaitForAsync(m => m.Retain, Publishers.Wait, "retained status")).State);
        Assert.True(intruder.IsConnected, "a refused publish need not cost the connection");
    }

    [Fact]
    public async Task Nobody_else_may_connect_with_the_daemons_client_id()
    {
        await using var probe = Publishers.Create(1, new ListLogger(), configure: o => o.Host = "");
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, StationRules(probe.ClientId), new ListLogger());
        await using var daemon = await Publishers.StartAsync(broker.Port, new ListLogger(), configure: o => o.Host = "");

        await Assert.ThrowsAnyAsync<Exception>(() => TestSubscriber.ConnectAsync(broker.Port, ["#"], clientId: probe.ClientId));
        await Task.Delay(Quiet);
        Assert.True(daemon.IsConnected, "the daemon's session was taken over");
        await daemon.PublishAsync(OutgoingMessages.Verdict(Topics, Samples.Verdict()), CancellationToken.None);
    }

    [Fact]
    public async Task A_subscriber_user_may_not_trigger_and_a_trigger_user_may()
    {
        await using var probe = Publishers.Create(1, new ListLogger(), configure: o => o.Host = "");
        var rules = StationRules(probe.ClientId,
            new BrokerUser("wall", BrokerRoles.Subscriber, p => p == "wall-pw"), new BrokerUser("plc", BrokerRoles.Trigger, p => p == "plc-pw"));
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, rules, new ListLogger());
        await using var wall = await TestSubscriber.ConnectAsync(broker.Port, ["#"], username: "wall", password: "wall-pw");
        await using var plc = await TestSubscriber.ConnectAsync(broker.Port, [], username: "plc", password: "plc-pw");
        await Assert.ThrowsAnyAsync<Exception>(() => TestSubscriber.ConnectAsync(broker.Port, ["#"], username: "plc", password: "guess"));
        await Assert.ThrowsAnyAsync<Exception>(() => TestSubscriber.ConnectAsync(broker.Port, ["#"]));

        await wall.PublishAsync(Topics.Trigger("cam1"), """{"partId":"from-the-wall"}""");
        await plc.PublishAsync(Topics.Trigger("cam1"), """{"partId":"from-the-plc"}""");

        await wall.WaitForAsync(m => m.Text.Contains("from-the-plc", StringComparison.Ordinal), Publishers.Wait, "the PLC's trigger");
        await Task.Delay(Quiet);
        Assert.DoesNotContain(wall.Received, m => m.Text.Contains("from-the-wall", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_oversized_publish_is_dropped_and_its_sender_disconnected()
    {
        await using var probe = Publishers.Create(1, new ListLogger(), configure: o => o.Host = "");
        var log = new ListLogger();
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, StationRules(probe.ClientId), log);
        await using var watcher = await TestSubscriber.ConnectAsync(broker.Port, ["#"]);
        await using var sender = await TestSubscriber.ConnectAsync(broker.Port, []);

        string huge = $$"""{"partId":"{{new string('x', 1024 * 1024)}}"}""";
        try { await sender.PublishAsync(Topics.Trigger("cam1"), huge); } catch (Exception) { /* the broker may close first */ }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (sender.IsConnected && clock.Elapsed < Publishers.Wait) await Task.Delay(100);
        Assert.False(sender.IsConnected, "the sender of an oversized publish is still connected");
        await using var next = await TestSubscriber.ConnectAsync(broker.Port, []);
        await next.PublishAsync(Topics.Trigger("cam1"), """{"partId":"small"}""");

        await watcher.WaitForAsync(m => m.Text.Contains("small", StringComparison.Ordinal), Publishers.Wait, "the small trigger after the big one");
        Assert.DoesNotContain(watcher.Received, m => m.Payload.Length > 64 * 1024);
        Assert.True(log.Has(Microsoft.Extensions.Logging.LogLevel.Warning, "more than 65536 bytes"), string.Join('\n', log.Entries));
    }

    [Fact]
    public async Task Sparkplug_commands_may_be_sent_but_births_and_data_only_by_the_daemon()
    {
        await using var probe = Publishers.Create(1, new ListLogger(), configure: o => o.Host = "");
        var rules = StationRules(probe.ClientId) with
        {
            PublicTopics = [Topics.Trigger("+"), "spBv1.0/g1/NCMD/st1", "spBv1.0/g1/DCMD/st1/+"],
            PublicRetainedTopics = ["spBv1.0/STATE/+"],
        };
        var log = new ListLogger();
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, rules, log);
        await using var watcher = await TestSubscriber.ConnectAsync(broker.Port, ["spBv1.0/#"]);
        await using var scada = await TestSubscriber.ConnectAsync(broker.Port, []);

        await scada.PublishAsync("spBv1.0/g1/NBIRTH/st1", "fake birth");
        await scada.PublishAsync("spBv1.0/g1/DDATA/st1/cam1", "fake data");
        await scada.PublishAsync("spBv1.0/g1/DDATA/st1/cam1", "fake data again");
        await scada.PublishAsync("spBv1.0/g1/NCMD/st1", "rebirth");
        await scada.PublishAsync("spBv1.0/g1/DCMD/st1/cam1", "trigger");
        await scada.PublishAsync("spBv1.0/STATE/scada-1", "online", retain: true);

        await watcher.WaitUntilAsync(r => r.Count >= 3, Publishers.Wait, "the commands and the STATE");
        await Task.Delay(Quiet);
        Assert.Equal(["spBv1.0/g1/NCMD/st1", "spBv1.0/g1/DCMD/st1/cam1", "spBv1.0/STATE/scada-1"], watcher.Received.Select(m => m.Topic));
        Assert.Equal(1, log.Entries.Count(e => e.Message.Contains("only the daemon publishes there", StringComparison.Ordinal)));
    }
}
