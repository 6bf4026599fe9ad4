using System.Text;
using DefectInspector.Core.Decision;
using DefectInspector.Host.Health;
using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace DefectInspector.Host.Tests.Units;

public sealed class HealthUnitTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://0.0.0.0:9100/", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://127.0.0.1", true)]
    [InlineData("https://127.0.0.1:8443", false)]
    [InlineData("http://127.0.0.1:0", false)]
    [InlineData("http://127.0.0.1:65536", false)]
    [InlineData("http://station.local:8080", false)]
    [InlineData("http://user:pw@127.0.0.1:8080", false)]
    [InlineData("http://127.0.0.1:8080/metrics", false)]
    [InlineData("127.0.0.1:8080", false)]
    public void Health_Url_is_plain_http_on_an_address_or_localhost_with_a_port(string url, bool valid) =>
        Assert.Equal(valid, ListenUrl.TryParse(url, out _));

    [Fact]
    public void Only_loopback_health_endpoints_count_as_private()
    {
        Assert.True(ListenUrl.TryParse("http://localhost:8080", out var localhost) && localhost.IsLoopback);
        Assert.True(ListenUrl.TryParse("http://127.0.0.1:8080", out var loopback) && loopback.IsLoopback);
        Assert.True(ListenUrl.TryParse("http://0.0.0.0:8080", out var any) && !any.IsLoopback);
    }

    [Fact]
    public void An_empty_Health_Url_turns_the_endpoints_off_and_is_valid()
    {
        var options = new HealthOptions { Url = "" };
        Assert.False(options.Enabled);
        Assert.True(new HealthOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(HealthOptions.DefaultUrl, new HealthOptions().Url);
    }

    [Fact]
    public void Liveness_is_starting_then_ok_and_fails_on_a_faulted_loop_a_stall_or_a_stop()
    {
        var running = new Dictionary<string, Task> { ["inspection"] = new TaskCompletionSource().Task, ["camera 'a'"] = Task.CompletedTask };
        var limit = TimeSpan.FromSeconds(30);
        Assert.Equal(LivenessReport.Starting, LivenessReport.Evaluate(false, false, new Dictionary<string, Task>(), null, limit).Status);
        var ok = LivenessReport.Evaluate(true, false, running, null, limit);
        Assert.True(ok.IsAlive);
        Assert.Equal(LivenessReport.Ok, ok.Status);

        var faulted = new Dictionary<string, Task>(running) { ["render"] = Task.FromException(new InvalidOperationException("boom")) };
        var failing = LivenessReport.Evaluate(true, false, faulted, null, limit);
        Assert.False(failing.IsAlive);
        Assert.Equal(["loop render failed: boom"], failing.Problems);

        var stuck = LivenessReport.Evaluate(true, false, running, ("camera 'a'", TimeSpan.FromSeconds(42)), limit);
        Assert.False(stuck.IsAlive);
        Assert.Equal(["camera 'a' stuck in a call for 42 s (limit 30 s)"], stuck.Problems);

        Assert.Equal(LivenessReport.Stopping, LivenessReport.Evaluate(true, true, running, null, limit).Status);
    }

    [Fact]
    public void Readiness_names_the_model_the_broker_and_each_camera_that_is_not_ready()
    {
        var model = new ModelReference("demo", "1", "abc");
        var online = Camera("a", CameraStates.Online);
        var ready = ReadinessReport.Evaluate(model, true, "connected to b:1883", ["a"], new Dictionary<string, CameraStatusMessage> { ["a"] = online });
        Assert.True(ready.IsReady);
        Assert.Equal("ready", ready.Status);

        var starting = ReadinessReport.Evaluate(null, false, "not connected to b:1883 yet", ["a", "b"], new Dictionary<string, CameraStatusMessage>());
        Assert.Equal(["model", "broker", "camera:a", "camera:b"], starting.NotReady);
        Assert.Equal("loading", starting.Model.Detail);
        Assert.Equal("starting", starting.Cameras["a"].Detail);

        var lost = ReadinessReport.Evaluate(model, true, "connected", ["a", "b"], new Dictionary<string, CameraStatusMessage>
        {
            ["a"] = online,
            ["b"] = Camera("b", CameraStates.Offline, "connection refused"),
        });
        Assert.Equal(["camera:b"], lost.NotReady);
        Assert.Equal("offline: connection refused", lost.Cameras["b"].Detail);
        Assert.Equal("not ready", lost.Status);
    }

    [Fact]
    public async Task Metrics_export_the_pipeline_counters_stage_histograms_states_and_process_metrics()
    {
        var stats = new PipelineStats();
        var board = new CameraStatusBoard();
        await using var publisher = Publisher();
        var metrics = new DaemonMetrics(stats, board, publisher, []);
        var counters = stats.For("cam1");
        counters.Captured();
        counters.Captured();
        counters.Dropped();
        counters.Decided(Verdict.Ng, new Dictionary<string, double> { ["queue"] = 2, ["inference"] = 40, ["total"] = 60 });
        counters.Decided(Verdict.Ok, new Dictionary<string, double> { ["queue"] = 1, ["inference"] = 30, ["total"] = 45 });
        board.Set("cam1", CameraStates.Degraded, "Roi outside the frame");

        string text = await Export(metrics);
        Assert.Contains("defectinspector_frames_captured_total{camera=\"cam1\"} 2\n", text);
        Assert.Contains("defectinspector_frames_dropped_total{camera=\"cam1\"} 1\n", text);
        Assert.Contains("defectinspector_verdicts_total{camera=\"cam1\",verdict=\"ng\"} 1\n", text);
        Assert.Contains("defectinspector_verdicts_total{camera=\"cam1\",verdict=\"ok\"} 1\n", text);
        Assert.Contains("defectinspector_verdicts_total{camera=\"cam1\",verdict=\"uncertain\"} 0\n", text);
        Assert.Contains("defectinspector_stage_duration_seconds_count{camera=\"cam1\",stage=\"inference\"} 2\n", text);
        Assert.Contains("defectinspector_stage_duration_seconds_sum{camera=\"cam1\",stage=\"total\"} 0.105\n", text);
        Assert.Contains("defectinspector_stage_duration_seconds_bucket{camera=\"cam1\",stage=\"total\",le=\"0.05\"} 1\n", text);
        Assert.Contains("defectinspector_broker_connected 0\n", text);
        Assert.Contains("defectinspector_camera_state{camera=\"cam1\",state=\"degraded\"} 1\n", text);
        Assert.Contains("defectinspector_camera_state{camera=\"cam1\",state=\"online\"} 0\n", text);
        Assert.Contains("process_working_set_bytes ", text);
        Assert.DoesNotContain("defectinspector_outbox", text);

        // The counters follow the pipeline at every scrape.
        counters.Captured();
        Assert.Contains("defectinspector_frames_captured_total{camera=\"cam1\"} 3\n", await Export(metrics));
    }

    [Fact]
    public async Task An_outbox_that_registers_its_backlog_gets_depth_and_oldest_age_gauges()
    {
        await using var publisher = Publisher();
        var outbox = new FixedBacklog(new OutboxBacklog(7, DateTimeOffset.UtcNow.AddMinutes(-2)));
        string text = await Export(new DaemonMetrics(new PipelineStats(), new CameraStatusBoard(), publisher, [outbox]));
        Assert.Contains("defectinspector_outbox_depth 7\n", text);
        double age = double.Parse(text.Split('\n').Single(l => l.StartsWith("defectinspector_outbox_oldest_age_seconds ", StringComparison.Ordinal)).Split(' ')[1],
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(age, 119, 150);

        outbox.Current = new OutboxBacklog(0, null);
        await using var again = Publisher();
        Assert.Contains("defectinspector_outbox_oldest_age_seconds 0\n", await Export(new DaemonMetrics(new PipelineStats(), new CameraStatusBoard(), again, [outbox])));
    }

    private static CameraStatusMessage Camera(string name, string state, string? reason = null) =>
        new() { Camera = name, State = state, Reason = reason, At = DateTimeOffset.UtcNow };

    private static MqttPublisher Publisher()
    {
        var status = new StatusMessage { State = StationStates.Online, Site = "plant", Line = "line1", Station = "s1", At = DateTimeOffset.UtcNow };
        return new MqttPublisher(new MqttOptions { Host = "127.0.0.1", Port = 1 }, new Topics("t", "plant", "line1", "s1"), status, NullLogger.Instance);
    }

    private static async Task<string> Export(DaemonMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private sealed class FixedBacklog(OutboxBacklog backlog) : IOutboxBacklog
    {
        public OutboxBacklog Current { get; set; } = backlog;
    }
}
