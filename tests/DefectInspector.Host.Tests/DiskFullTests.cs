using System.Text.Json.Nodes;
using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

/// <summary>The state directory on a small tmpfs that the test fills up, as a line PC's disk fills with logs.</summary>
public sealed class DiskFullTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task A_full_disk_raises_an_alarm_without_a_crash_and_delivery_resumes_when_space_returns()
    {
        string work = fixture.NewFolder("disk-full");
        string state = Directory.CreateDirectory(Path.Combine(work, "state")).FullName;
        using var disk = Tmpfs.Mount(state, megabytes: 8);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(state,
            $"--Mqtt:TopicPrefix={prefix}", "--Station:Station=full", "--Cameras:0:Name=line", "--Cameras:0:Source=virtual", "--Cameras:0:VirtualFps=10"));
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 3, TimeSpan.FromSeconds(90), "verdicts before the disk fills");

        string filler = Path.Combine(state, "filler.bin");
        Fill(filler);
        var alarm = await all.WaitForAsync(m => Messages.Kind(m.Topic) == "status" && Alarms(m).Contains("storage-full"), TimeSpan.FromSeconds(60), "storage-full alarm on the status");
        int stalledAt = all.Received.OfKind("verdict").Count();
        await Task.Delay(2000);
        Assert.False(daemon.HasExited, daemon.Output);

        File.Delete(filler);
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= stalledAt + 5, TimeSpan.FromSeconds(60), "verdicts after space returned");
        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "status" && m != alarm && !Alarms(m).Contains("storage-full") && (string?)JsonNode.Parse(m.Text)!["state"] == "online",
            TimeSpan.FromSeconds(30), "the alarm cleared");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Messages.AssertAllValid(all.Received);
        Assert.Contains("storage-full", daemon.Output);
    }

    private static List<string?> Alarms(Received status) =>
        (JsonNode.Parse(status.Text)!["alarms"]?.AsArray() ?? []).Select(a => (string?)a!["code"]).ToList();

    private static void Fill(string path)
    {
        var chunk = new byte[64 * 1024];
        using var file = File.Create(path);
        try
        {
            while (true) file.Write(chunk);
        }
        catch (IOException)
        {
            // The disk is full: exactly what this test wants.
        }
    }

    private sealed class Tmpfs(string path) : IDisposable
    {
        public static Tmpfs Mount(string path, int megabytes)
        {
            Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
            return new Tmpfs(path);
        }

        public void Dispose() => Run("umount", "-l", path);

        private static void Run(string command, params string[] args) =>
            Tool.Run(command, "this test mounts a small tmpfs and needs root, as CI has", args);
    }
}
