using System.Net;
using System.Net.Sockets;
using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

public sealed class HealthTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Healthz_and_readyz_answer_200_while_running_and_readyz_names_the_broker_while_it_is_down()
    {
        using var broker = MosquittoBroker.Start();
        using var health = new HealthClient(MosquittoBroker.FreePort());
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(fixture.NewFolder("health"), "state"),
            $"--Mqtt:Port={broker.Port}", $"--Health:Url={health.Url}", "--Cameras:0:Name=line", "--Cameras:0:Source=virtual"));

        var ready = await health.WaitForAsync("/readyz", a => a.Status == 200, Patience, daemon, "readiness");
        Assert.Equal("ready", (string?)ready.Json["status"]);
        Assert.Empty(ready.Json["notReady"]!.AsArray());
        Assert.Equal("online", (string?)ready.Json["cameras"]!["line"]!["detail"]);
        var alive = await health.GetAsync("/healthz");
        Assert.Equal(200, alive.Status);
        Assert.Equal("ok", (string?)alive.Json["status"]);

        broker.Stop();
        var down = await health.WaitForAsync("/readyz", a => a.Status == 503, TimeSpan.FromSeconds(30), daemon, "503 after the broker stopped");
        Assert.Equal(["broker"], down.Json["notReady"]!.AsArray().Select(n => (string?)n));
        Assert.Contains($"127.0.0.1:{broker.Port}", (string?)down.Json["broker"]!["detail"]);
        Assert.False((bool)down.Json["broker"]!["ready"]!);
        // A broker outage is the line's problem, not a dead daemon: verdicts wait for the broker, nothing is stuck.
        Assert.Equal(200, (await health.GetAsync("/healthz")).Status);

        broker.Restart();
        await health.WaitForAsync("/readyz", a => a.Status == 200, TimeSpan.FromSeconds(60), daemon, "readiness after the broker came back");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Readyz_names_a_camera_whose_source_cannot_be_reached()
    {
        using var health = new HealthClient(MosquittoBroker.FreePort());
        int nobody = MosquittoBroker.FreePort();
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(fixture.NewFolder("health-camera"), "state"), $"--Health:Url={health.Url}",
            "--Cameras:0:Name=line", "--Cameras:0:Source=virtual",
            "--Cameras:1:Name=gate", $"--Cameras:1:Source=http://127.0.0.1:{nobody}/stream.mjpg"));

        var answer = await health.WaitForAsync("/readyz", a => a.Status == 503 && a.Json["model"]!["ready"]!.GetValue<bool>() && a.Json["broker"]!["ready"]!.GetValue<bool>()
            && a.Json["cameras"]!["line"]!["ready"]!.GetValue<bool>(), Patience, daemon, "model, broker and the reachable camera ready");
        Assert.Equal(["camera:gate"], answer.Json["notReady"]!.AsArray().Select(n => (string?)n));
        Assert.StartsWith("offline", (string?)answer.Json["cameras"]!["gate"]!["detail"]);
        // The daemon keeps retrying the camera: alive.
        Assert.Equal(200, (await health.GetAsync("/healthz")).Status);
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Metrics_count_frames_and_verdicts_per_camera_as_the_subscriber_receives_them()
    {
        string work = fixture.NewFolder("metrics");
        const int Frames = 20;
        string video = TestVideos.Write(Path.Combine(work, "line.avi"), frames: Frames, fps: 4);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        using var health = new HealthClient(MosquittoBroker.FreePort());
        await using var subscriber = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/+/+/+/verdict/+"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"), $"--Health:Url={health.Url}", $"--Mqtt:TopicPrefix={prefix}",
            "--Cameras:0:Name=file", $"--Cameras:0:Source=file:{video}", "--Cameras:0:Loop=false", "--Cameras:0:RealTime=true"));

        await subscriber.WaitForAsync(_ => true, Patience, "first verdict");
        int receivedBefore = subscriber.Received.Count;
        var early = await health.MetricsAsync();
        double earlyVerdicts = Verdicts(early, "file");
        // Counted when decided, a moment before the broker delivers: never fewer than arrived, never more than will.
        Assert.InRange(earlyVerdicts, receivedBefore, Frames);

        await subscriber.WaitUntilAsync(r => r.Count >= Frames, Patience, "a verdict for every frame");
        // A file without Loop ends: the camera goes offline a moment after its last frame.
        const string Offline = "defectinspector_camera_state{camera=\"file\",state=\"offline\"}";
        var end = await health.WaitForMetricsAsync(m => Verdicts(m, "file") >= Frames && m.GetValueOrDefault(Offline) == 1, daemon);
        Assert.True(Verdicts(end, "file") > earlyVerdicts, $"the verdict counter did not grow: {earlyVerdicts} then {Verdicts(end, "file")}");
        var received = subscriber.Received.Json();
        Assert.Equal(Frames, received.Count);
        foreach (string outcome in new[] { "ok", "ng", "uncertain" })
            Assert.Equal(received.Count(v => (string?)v["verdict"] == outcome), end[$"defectinspector_verdicts_total{{camera=\"file\",verdict=\"{outcome}\"}}"]);
        Assert.Equal(Frames, end["defectinspector_frames_captured_total{camera=\"file\"}"]);
        Assert.Equal(0, end["defectinspector_frames_dropped_total{camera=\"file\"}"]);
        Assert.Equal(0, end["defectinspector_frames_failed_total{camera=\"file\"}"]);
        foreach (string stage in new[] { "queue", "preprocess", "inference", "regions", "render", "total" })
            Assert.Equal(Frames, end[$"defectinspector_stage_duration_seconds_count{{camera=\"file\",stage=\"{stage}\"}}"]);
        Assert.True(end["defectinspector_stage_duration_seconds_sum{camera=\"file\",stage=\"total\"}"] > 0);
        Assert.Equal(1, end["defectinspector_broker_connected"]);
        // Every verdict was delivered, so the outbox holds nothing older than a moment.
        Assert.True(end.ContainsKey("defectinspector_outbox_depth"), "no outbox gauge in /metrics");
        Assert.True(end["defectinspector_outbox_oldest_age_seconds"] < 30);
        Assert.Equal(0, end["defectinspector_camera_state{camera=\"file\",state=\"online\"}"]);
        Assert.True(end["process_working_set_bytes"] > 0);
        Assert.True(end["dotnet_total_memory_bytes"] > 0);
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_Health_Url_whose_port_is_taken_stops_start_up_before_the_model_loads_naming_the_key()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        string url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(fixture.NewFolder("health-port"), "state"), $"--Health:Url={url}"));
        Assert.Equal(1, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"error: Health:Url '{url}': cannot listen there", daemon.Output);
        Assert.Contains("address already in use", daemon.Output);
        Assert.DoesNotContain("loaded from", daemon.Output);
    }

    private static double Verdicts(Dictionary<string, double> metrics, string camera) =>
        metrics.Where(m => m.Key.StartsWith($"defectinspector_verdicts_total{{camera=\"{camera}\"", StringComparison.Ordinal)).Sum(m => m.Value);
}

public sealed class HealthUrlTests : IDisposable
{
    private readonly TempFolder temp = new("di-health-url-");

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData("https://127.0.0.1:8443")]
    [InlineData("ftp://127.0.0.1:8080")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("http://plant-pc:8080")]
    [InlineData("http://127.0.0.1:8080/health")]
    public void Run_refuses_a_bad_Health_Url_with_exit_code_2(string url)
    {
        var (exit, output) = DaemonProcess.Run(["run", $"--Storage:Path={temp.Path}", $"--Health:Url={url}"]);
        Assert.Equal(2, exit);
        Assert.Contains($"error: Health:Url '{url}': expected an http:// URL with an IP address or localhost and a port 1 to 65535", output);
    }
}
