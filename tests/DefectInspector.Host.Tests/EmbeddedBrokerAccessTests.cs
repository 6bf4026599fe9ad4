using System.Diagnostics;
using System.Globalization;
using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

/// <summary>
/// The daemon on its embedded broker, against clients on the line network (mosquitto_pub and an MQTTnet client):
/// they may trigger and watch, but cannot fake a result, a status or the daemon's own connection.
/// </summary>
public sealed class EmbeddedBrokerAccessTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Others_may_trigger_and_watch_but_not_publish_results_status_or_take_the_daemons_client_id()
    {
        string work = fixture.NewFolder("embedded-acl");
        int port = MosquittoBroker.FreePort();
        using var daemon = DaemonProcess.Start(fixture.RunArgs(port, Path.Combine(work, "state"),
            "--Mqtt:Host=", "--Station:Station=s5", "--Cameras:0:Name=gate", "--Cameras:0:Source=virtual", "--Cameras:0:Trigger=mqtt"));
        await using var watcher = await ConnectWhenUpAsync(daemon, port);
        string root = "defect-inspector/plant/line1/s5";
        await watcher.WaitForAsync(m => m.Topic == $"{root}/camera/gate/status" && m.Text.Contains("\"online\"", StringComparison.Ordinal), Patience, "camera online");

        MosquittoPub(port, $"{root}/verdict/gate", """{"schema":"2.0","id":"fake-verdict","verdict":"ok"}""");
        MosquittoPub(port, $"{root}/status", """{"schema":"2.0","state":"offline"}""", "-r");
        await Assert.ThrowsAnyAsync<Exception>(() => TestSubscriber.ConnectAsync(port, ["#"], clientId: "defect-inspector-plant-line1-s5"));
        MosquittoPub(port, $"{root}/trigger/gate", """{"partId":"P-acl"}""");

        var verdict = await watcher.WaitForAsync(m => m.Topic == $"{root}/verdict/gate" && m.Text.Contains("P-acl", StringComparison.Ordinal), Patience, "the triggered verdict");
        Assert.DoesNotContain(watcher.Received, m => m.Text.Contains("fake-verdict", StringComparison.Ordinal));
        await using var late = await TestSubscriber.ConnectAsync(port, [$"{root}/status"]);
        var status = await late.WaitForAsync(m => m.Retain, Patience, "the retained status");
        Assert.Contains("\"online\"", status.Text);
        Assert.Contains("only the daemon publishes there", daemon.Output);
        Assert.Contains("that client id is the daemon's own", daemon.Output);

        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.NotNull(verdict);
    }

    private static void MosquittoPub(int port, string topic, string payload, params string[] more) =>
        Tool.Run("mosquitto_pub", "the broker tests use mosquitto-clients (deploy/setup.sh installs it)",
            ["-V", "mqttv5", "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-q", "1", "-t", topic, "-m", payload, .. more]);

    private static async Task<TestSubscriber> ConnectWhenUpAsync(DaemonProcess daemon, int port)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await TestSubscriber.ConnectAsync(port, ["#"]);
            }
            catch (Exception) when (clock.Elapsed < Patience && !daemon.HasExited)
            {
                await Task.Delay(500);
            }
        }
    }
}
