using DefectInspector.Host.Tests.Infrastructure;
using DefectInspector.Publish.Contracts;
using OpenCvSharp;

namespace DefectInspector.Host.Tests;

public sealed class ResilienceTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task An_RTSP_camera_that_goes_away_and_comes_back_is_reported_offline_then_online_and_inspected_again()
    {
        string work = fixture.NewFolder("rtsp-restart");
        string video = TestVideos.Write(Path.Combine(work, "line.avi"), frames: 20);
        using var camera = new RtspTestCamera(video, work);
        camera.StartStreaming();
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Cameras:0:Name=cam", $"--Cameras:0:Source={camera.Url()}", "--Cameras:0:MaxFps=5"));

        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 3, TimeSpan.FromSeconds(90), "verdicts from the stream");
        camera.StopStreaming();
        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "camera-status" && m.Text.Contains("\"offline\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), "camera offline after the stream stopped");
        int before = all.Received.OfKind("verdict").Count();
        camera.StartStreaming();
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= before + 3, TimeSpan.FromSeconds(90), "verdicts after the stream came back");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        AssertOnlineAgainAfter(CameraStates.Offline, all.Received);
        Messages.AssertAllValid(all.Received);
    }

    [Fact]
    public async Task A_camera_whose_read_hangs_is_reported_degraded_reopened_and_inspected_again()
    {
        var (work, server, prefix) = MjpegLine("hung-read");
        using var camera = server;
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Cameras:0:Name=mjpeg", $"--Cameras:0:Source={camera.Url}", "--Cameras:0:MaxFps=5", "--Pipeline:StallTimeoutSeconds=3"));

        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 3, TimeSpan.FromSeconds(90), "verdicts from the camera");
        int connections = camera.Requests.Count;
        // The camera keeps the connection open but sends nothing: without the stall limit the read would wait for
        // the stream's own 10 s timeout.
        camera.Hang();
        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "camera-status" && m.Text.Contains("\"degraded\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "camera degraded while its read hangs");
        camera.Resume();
        int before = all.Received.OfKind("verdict").Count();
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= before + 3, TimeSpan.FromSeconds(60), "verdicts after the camera was reopened");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        Assert.True(camera.Requests.Count > connections, $"the camera was not connected again:\n{daemon.Output}");
        Assert.Contains("stuck read abandoned, reopening", daemon.Output);
        AssertOnlineAgainAfter(CameraStates.Degraded, all.Received);
        Messages.AssertAllValid(all.Received);
    }

    [Fact]
    public async Task A_stage_stuck_past_StallExitSeconds_raises_stage_stalled_and_exits_with_code_3()
    {
        var (work, server, prefix) = MjpegLine("stall-exit");
        using var camera = server;
        // Opening waits up to 10 s for a first frame that never comes: a call longer than the 3 s allowed here.
        camera.Hang();
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Cameras:0:Name=mjpeg", $"--Cameras:0:Source={camera.Url}",
            "--Pipeline:StallTimeoutSeconds=1", "--Pipeline:StallExitSeconds=3", "--Pipeline:DrainTimeoutSeconds=1", "--Pipeline:DeliveryDrainSeconds=1"));

        Assert.Equal(3, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains("exiting with code 3", daemon.Output);
        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "status" && m.Text.Contains("\"stage-stalled\"", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the stage-stalled alarm on the station status");
        var alarm = all.Received.OfKind("status").Json().SelectMany(s => s["alarms"]?.AsArray() ?? []).First(a => (string?)a!["code"] == "stage-stalled");
        Assert.Contains("camera 'mjpeg' stuck in one call", (string?)alarm!["message"]);
        Messages.AssertAllValid(all.Received);
    }

    [Fact]
    public async Task Broken_huge_and_foreign_files_in_a_watched_folder_are_named_set_aside_and_the_line_goes_on()
    {
        string work = fixture.NewFolder("bad-inputs");
        string folder = Directory.CreateDirectory(Path.Combine(work, "drop")).FullName;
        var good = PartImages.Write(folder, 2);
        byte[] jpeg;
        using (var part = Cv2.ImRead(Path.Combine(folder, good[0])))
            jpeg = part.ImEncode(".jpg");
        File.WriteAllBytes(Path.Combine(folder, "truncated.jpg"), jpeg[..(jpeg.Length / 2)]);
        File.WriteAllBytes(Path.Combine(folder, "empty.png"), []);
        File.WriteAllText(Path.Combine(folder, "notes.png"), "not an image");
        HugePng.Write(Path.Combine(folder, "huge.png"), 20000, 20000);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Cameras:0:Name=drop", $"--Cameras:0:Source=folder:{folder}"));

        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 2, TimeSpan.FromSeconds(90), "verdicts of the two good parts");
        string[] bad = ["truncated.jpg", "empty.png", "notes.png", "huge.png"];
        var rejected = Path.Combine(folder, "rejected");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (bad.Any(b => !File.Exists(Path.Combine(rejected, b))) && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(200);
        // Still running: a later good file is inspected too.
        PartImages.Write(folder, 1, prefix: "later", seed: 9);
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 3, TimeSpan.FromSeconds(60), "a verdict after the bad files");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal(good.Append("later-000.png").Order(), all.Received.OfKind("verdict").Json().Select(v => (string)v["frameRef"]!).Order());
        Assert.All(bad, b => Assert.True(File.Exists(Path.Combine(rejected, b)), $"{b} not in rejected/"));
        Assert.All(bad, b => Assert.Contains(b, daemon.Output));
        Assert.Contains("20000x20000 (400 megapixels)", daemon.Output);
    }

    [Fact]
    public async Task A_corrupt_model_bundle_stops_start_up_naming_the_file()
    {
        string work = fixture.NewFolder("bad-model");
        string bundle = Path.Combine(work, "broken.dimodel");
        var bytes = File.ReadAllBytes(fixture.DemoModelPath);
        File.WriteAllBytes(bundle, bytes[..(bytes.Length / 3)]);
        using var daemon = DaemonProcess.Start([.. fixture.RunArgs(Path.Combine(work, "state")), $"--Model:Path={bundle}"]);
        Assert.Equal(1, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"Model:Path '{bundle}'", daemon.Output);
    }

    /// <summary>A work folder, an MJPEG camera on loopback that shows one part, and a topic prefix of the test's own.</summary>
    private (string Work, MjpegTestServer Camera, string Prefix) MjpegLine(string name)
    {
        using var frame = TestVideos.Frame(1);
        return (fixture.NewFolder(name), new MjpegTestServer(frame.ImEncode(".jpg"), fps: 10), $"t{Guid.NewGuid():N}"[..12]);
    }

    /// <summary>The camera went from online to <paramref name="away"/> and back to online.</summary>
    private static void AssertOnlineAgainAfter(string away, IEnumerable<Received> received)
    {
        var states = received.OfKind("camera-status").Json().Select(s => (string?)s["state"]).ToList();
        int left = states.IndexOf(away, states.IndexOf(CameraStates.Online));
        Assert.True(left > 0 && states.IndexOf(CameraStates.Online, left) > left, $"camera states: {string.Join(" -> ", states)}");
    }
}
