using DefectInspector.Host.Tests.Infrastructure;

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
}
