using System.Net;
using System.Net.Sockets;

namespace DefectInspector.Publish.Tests;

public sealed class EmbeddedBrokerTests : StationTests
{
    [Fact]
    public async Task Publishes_and_subscribes_through_the_embedded_broker_on_loopback()
    {
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, new ListLogger());
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
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedBroker.StartAsync("0.0.0.0", 0, username, password, new ListLogger()));

        Assert.Contains("0.0.0.0", error.Message);
        Assert.Contains("Mqtt:Username and Mqtt:Password", error.Message);
    }

    [Fact]
    public async Task With_credentials_a_wrong_password_is_refused_and_the_right_one_works()
    {
        await using var broker = await EmbeddedBroker.StartAsync("0.0.0.0", 0, "station", "s3cret", new ListLogger());

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
            await using var station = await Publishers.StartAsync(broker.Port, new ListLogger(), configure: o => (o.Username, o.PasswordFile) = ("station", passwordFile));
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
        await using var broker = await EmbeddedBroker.StartAsync("127.0.0.1", 0, null, null, new ListLogger());
        await using var anonymous = await TestSubscriber.ConnectAsync(broker.Port, ["#"], clientId: "");
        Assert.True(anonymous.IsConnected);
    }

    [Fact]
    public async Task A_port_in_use_says_which_and_what_to_set()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        int port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedBroker.StartAsync("127.0.0.1", port, null, null, new ListLogger()));

        Assert.Equal($"port {port} on 127.0.0.1 is in use: set Mqtt:Port or Mqtt:Host", error.Message);
    }

    [Fact]
    public async Task A_bind_address_that_is_not_an_address_is_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => EmbeddedBroker.StartAsync("broker.example", 0, null, null, new ListLogger()));

        Assert.Contains("broker.example", error.Message);
    }
}
