using System.Text.Json.Nodes;
using DefectInspector.Host.Tests.Infrastructure;
using OpenCvSharp;

namespace DefectInspector.Host.Tests;

public sealed class PipelineTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Video_file_RTSP_stream_and_watched_folder_give_one_valid_verdict_per_frame_and_snapshots_of_the_frame_size()
    {
        string work = fixture.NewFolder("pipeline");
        string state = Path.Combine(work, "state");
        string video = TestVideos.Write(Path.Combine(work, "line.avi"), frames: 12);
        string folder = Directory.CreateDirectory(Path.Combine(work, "drop")).FullName;
        var dropped = PartImages.Write(folder, 6);
        using var rtsp = new RtspTestCamera(video, work);
        rtsp.StartStreaming();

        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(state,
            $"--Mqtt:TopicPrefix={prefix}", "--Station:Station=s1", "--Pipeline:SnapshotOk=true",
            "--Cameras:0:Name=file", $"--Cameras:0:Source=file:{video}", "--Cameras:0:Loop=false", "--Cameras:0:RealTime=false",
            "--Cameras:1:Name=rtsp", $"--Cameras:1:Source={rtsp.Url()}",
            "--Cameras:2:Name=folder", $"--Cameras:2:Source=folder:{folder}"));

        await all.WaitUntilAsync(r => r.OfKind("verdict", "file").Count() >= 12 && r.OfKind("verdict", "folder").Count() >= 6 && r.OfKind("verdict", "rtsp").Count() >= 5,
            Patience, "verdicts of all three cameras");
        // A retained online status for whoever subscribes later.
        await using (var late = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/+/+/+/status"]))
        {
            var status = await late.WaitForAsync(m => m.Retain, TimeSpan.FromSeconds(10), "retained station status");
            Assert.Equal("online", (string?)JsonNode.Parse(status.Text)!["state"]);
        }
        await Task.Delay(1500); // a frame more, if the daemon were to publish duplicates
        daemon.KillHard();
        var will = await all.WaitForAsync(m => Messages.Kind(m.Topic) == "status" && (string?)JsonNode.Parse(m.Text)!["state"] == "offline",
            TimeSpan.FromSeconds(60), "Last Will offline status");
        Assert.Null((string?)JsonNode.Parse(will.Text)!["version"]); // the will, not a clean stop's status

        var received = all.Received;
        Messages.AssertAllValid(received);
        var verdicts = received.OfKind("verdict").Json();
        Assert.Equal(verdicts.Count, verdicts.Select(v => (string?)v["id"]).Distinct().Count());

        // A video file: every frame exactly once, in order.
        var file = received.OfKind("verdict", "file").Json();
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i.ToString()), file.Select(v => (string?)v["frameRef"]));
        // A watched folder: every file exactly once, then moved aside.
        var folderVerdicts = received.OfKind("verdict", "folder").Json();
        Assert.Equal(dropped.Order(), folderVerdicts.Select(v => (string)v["frameRef"]!).Order());
        Assert.Equal(dropped.Order(), Directory.GetFiles(Path.Combine(folder, "processed")).Select(Path.GetFileName).Order()!);
        // A live stream may drop frames when inspection is behind, but never repeats or reorders one.
        var stream = received.OfKind("verdict", "rtsp").Json().Select(v => long.Parse((string)v["frameRef"]!)).ToList();
        Assert.Equal(stream.Order(), stream);
        Assert.Equal(stream.Count, stream.Distinct().Count());

        // Each snapshot is the overlay of its verdict's frame.
        foreach (var snapshot in received.OfKind("snapshot"))
        {
            var verdict = verdicts.Single(v => (string?)v["id"] == snapshot.Correlation);
            using var image = Cv2.ImDecode(snapshot.Payload, ImreadModes.Color);
            Assert.False(image.Empty(), $"snapshot of {snapshot.Correlation} does not decode");
            Assert.Equal(((int)verdict["width"]!, (int)verdict["height"]!), (image.Width, image.Height));
            Assert.Equal(snapshot.Payload.Length, (int)verdict["snapshot"]!["bytes"]!);
        }
        Assert.All(received.OfKind("verdict", "folder").Json(), v => Assert.Equal((PartImages.Width, PartImages.Height), ((int)v["width"]!, (int)v["height"]!)));

        // A frame's messages go out verdict first, then event and snapshot; SIGKILL may fall between them, so only
        // the last verdict of a camera may lack its event or snapshot.
        var last = verdicts.GroupBy(v => (string?)v["camera"]).Select(g => (string?)g.Last()["id"]).ToHashSet();
        var snapshots = received.OfKind("snapshot").Select(s => s.Correlation).ToHashSet();
        Assert.All(verdicts.Select(v => (string?)v["id"]).Where(id => !snapshots.Contains(id)), id => Assert.Contains(id, last));
        // NG and uncertain verdicts also went to MES as events, OK ones did not.
        var notOk = verdicts.Where(v => (string?)v["verdict"] != "ok").Select(v => (string?)v["id"]).ToHashSet();
        var events = received.OfKind("event").Json().Select(e => (string?)e["id"]).ToHashSet();
        Assert.Subset(notOk, events);
        Assert.All(notOk.Except(events), id => Assert.Contains(id, last));
        Assert.Contains(received.OfKind("camera-status").Json(), s => (string?)s["camera"] == "rtsp" && (string?)s["state"] == "online");
        Assert.NotEmpty(received.OfKind("stats"));
    }

    [Fact]
    public async Task SIGTERM_drains_what_was_captured_publishes_offline_and_exits_zero()
    {
        string work = fixture.NewFolder("sigterm");
        string folder = Directory.CreateDirectory(Path.Combine(work, "drop")).FullName;
        var dropped = PartImages.Write(folder, 200, seed: 5);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Cameras:0:Name=drop", $"--Cameras:0:Source=folder:{folder}"));

        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "verdict", Patience, "first verdict");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        // The broker may pass the last messages on a moment after the daemon has exited.
        var said = await all.WaitForAsync(m => Messages.Kind(m.Topic) == "status" && m.Text.Contains("\"offline\"", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "offline status");
        var offline = JsonNode.Parse(said.Text)!;
        Assert.NotNull((string?)offline["version"]); // said on the way out, not the broker's Last Will
        Assert.Equal("offline", (string?)all.Received.OfKind("status").Json().Last()["state"]);
        // The camera says why it went offline before the connection closes.
        var camera = all.Received.OfKind("camera-status").Json().Last();
        Assert.Equal(("offline", "daemon stopped"), ((string?)camera["state"], (string?)camera["reason"]));
        // Every file marked processed had its verdict delivered; every other file is still waiting in the folder.
        var processed = Directory.GetFiles(Path.Combine(folder, "processed")).Select(Path.GetFileName).Order().ToList();
        var published = all.Received.OfKind("verdict").Json().Select(v => (string?)v["frameRef"]).Order().ToList();
        Assert.Equal(processed, published);
        Assert.Equal(dropped.Except(processed).Order(), Directory.GetFiles(folder).Select(Path.GetFileName).Order()!);
        Assert.True(processed.Count < dropped.Count, "the daemon should have been stopped mid-folder");
    }

    [Fact]
    public async Task A_triggered_camera_inspects_one_part_per_command_and_carries_its_part_id()
    {
        string work = fixture.NewFolder("trigger");
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Station:Station=s9", "--Cameras:0:Name=gate", "--Cameras:0:Source=virtual", "--Cameras:0:Trigger=mqtt"));
        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "camera-status" && m.Text.Contains("\"online\""), Patience, "camera online");
        await Task.Delay(2000);
        Assert.Empty(all.Received.OfKind("verdict"));

        string trigger = $"{prefix}/plant/line1/s9/trigger/gate";
        foreach (var part in new[] { "P-1", "P-2", "P-3" })
            await all.PublishAsync(trigger, $$"""{"partId":"{{part}}"}""");
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 3, Patience, "three verdicts");
        await Task.Delay(1000);

        var verdicts = all.Received.OfKind("verdict").Json();
        Assert.Equal(["P-1", "P-2", "P-3"], verdicts.Select(v => (string?)v["partId"]));
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_region_of_interest_is_what_gets_inspected_and_MaxFps_slows_a_file_down()
    {
        string work = fixture.NewFolder("roi");
        string video = TestVideos.Write(Path.Combine(work, "line.avi"), frames: 20);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Pipeline:SnapshotOk=true",
            "--Cameras:0:Name=roi", $"--Cameras:0:Source=file:{video}", "--Cameras:0:RealTime=false",
            "--Cameras:0:Loop=true", "--Cameras:0:Roi=20,10,96,64", "--Cameras:0:MaxFps=4"));

        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "verdict", Patience, "first verdict");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var verdicts = all.Received.OfKind("verdict").Json();
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        Assert.All(verdicts, v => Assert.Equal((96, 64), ((int)v["width"]!, (int)v["height"]!)));
        using (var snapshot = Cv2.ImDecode(all.Received.OfKind("snapshot").First().Payload, ImreadModes.Color))
            Assert.Equal((96, 64), (snapshot.Width, snapshot.Height));
        // Unlimited, this file is inspected at tens of frames per second; at 4 fps, 3 s see about 13.
        Assert.InRange(verdicts.Count, 2, 20);
        // Frames are slowed down, not skipped: a file source never drops.
        Assert.Equal(Enumerable.Range(0, verdicts.Count).Select(i => i.ToString()), verdicts.Select(v => (string?)v["frameRef"]));
    }
}
