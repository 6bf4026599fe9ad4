using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

public sealed class SystemdTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task Notify_socket_sees_READY_then_watchdog_pings_which_stop_while_a_camera_hangs()
    {
        string work = fixture.NewFolder("systemd");
        using var notify = new NotifySocket(Path.Combine(work, "notify.sock"));
        using var frame = TestVideos.Frame(1);
        using var camera = new MjpegTestServer(frame.ImEncode(".jpg"), fps: 10);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(
            fixture.RunArgs(Path.Combine(work, "state"), $"--Mqtt:TopicPrefix={prefix}", "--Cameras:0:Name=mjpeg", $"--Cameras:0:Source={camera.Url}", "--Pipeline:StallTimeoutSeconds=3"),
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path, ["WATCHDOG_USEC"] = "1000000" });

        var ready = await WaitForAsync(notify, "READY=1", TimeSpan.FromSeconds(90), daemon);
        await Until(() => notify.Matching("WATCHDOG=1").Count >= 3 || notify.Elapsed - ready.At > TimeSpan.FromSeconds(3));
        var pings = notify.Matching("WATCHDOG=1");
        Assert.True(pings.Count >= 3 && pings[2].At - ready.At <= TimeSpan.FromSeconds(3), $"{pings.Count} watchdog pings in 3 s after READY=1");
        Assert.True(pings[0].At >= ready.At, "a watchdog ping came before READY=1");

        // The camera stops sending but keeps the connection open. Its read is abandoned at the stall limit and the
        // camera reopened; that open waits up to 10 s for a first frame, longer than the limit: the pings stop.
        camera.Hang();
        var hungAt = notify.Elapsed;
        TimeSpan Quiet()
        {
            List<TimeSpan> times = [hungAt, .. notify.Matching("WATCHDOG=1").Select(p => p.At).Where(at => at > hungAt), notify.Elapsed];
            return times.Zip(times.Skip(1), (a, b) => b - a).Max();
        }
        // Watched until the pings have stopped for 3 s or 12 s have passed, rather than for 12 s every time.
        bool Degraded() => all.Received.OfKind("camera-status").Json().Any(m => (string?)m["state"] == "degraded");
        await Until(() => (Quiet() >= TimeSpan.FromSeconds(3) && daemon.Output.Contains("stuck", StringComparison.Ordinal) && Degraded())
            || notify.Elapsed - hungAt > TimeSpan.FromSeconds(12));
        var quiet = Quiet();
        Assert.True(quiet >= TimeSpan.FromSeconds(3), $"watchdog pings at most {quiet.TotalSeconds:0.0} s apart although the camera hangs:\n{daemon.Output}");
        Assert.Contains("stuck", daemon.Output);
        // ... and the camera says it is degraded, naming why.
        var degraded = all.Received.OfKind("camera-status").Json().FirstOrDefault(m => (string?)m["state"] == "degraded");
        Assert.NotNull(degraded);
        Assert.Contains("read stuck", (string?)degraded["reason"]);

        daemon.Terminate();
        await WaitForAsync(notify, "STOPPING=1", TimeSpan.FromSeconds(30), daemon);
        await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }

    private static async Task Until(Func<bool> done)
    {
        while (!done()) await Task.Delay(100);
    }

    private static async Task<(TimeSpan At, string Message)> WaitForAsync(NotifySocket notify, string state, TimeSpan timeout, DaemonProcess daemon)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            var found = notify.Matching(state);
            if (found.Count > 0) return found[0];
            if (daemon.HasExited) break;
            await Task.Delay(100);
        }
        throw new TimeoutException($"no {state} on NOTIFY_SOCKET; got [{string.Join(" | ", notify.Received.Select(r => r.Message))}]\n{daemon.Output}");
    }
}
