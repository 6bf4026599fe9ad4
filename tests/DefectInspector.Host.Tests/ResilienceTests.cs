using DefectInspector.Host.Tests.Infrastructure;
using OpenCvSharp;

namespace DefectInspector.Host.Tests;

[Collection(DaemonCollection.Name)]
public sealed class ResilienceTests(DaemonFixture fixture)
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

        var states = all.Received.OfKind("camera-status").Json().Select(s => (string?)s["state"]).ToList();
        int offline = states.IndexOf("offline", states.IndexOf("online"));
        Assert.True(offline > 0 && states.IndexOf("online", offline) > offline, $"camera states: {string.Join(" -> ", states)}");
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
}
