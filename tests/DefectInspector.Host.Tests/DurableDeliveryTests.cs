using System.Diagnostics;
using System.Text.Json.Nodes;
using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

/// <summary>
/// The outbox end to end: a broker that goes away for 20 s and a daemon killed with SIGKILL lose no verdict, keep each
/// camera's order, and deliver duplicates only under the id the consumer already has. Each test runs a Mosquitto of
/// its own with persistence, so the subscriber's session (and what the broker queued for it) survives a restart.
/// </summary>
[LongRunning(70)]
public sealed class DurableDeliveryTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Verdicts_decided_while_the_broker_is_down_for_8_s_all_arrive_after_it_returns_in_order_per_camera()
    {
        string work = fixture.NewFolder("outage");
        var folders = new[] { "left", "right" }.ToDictionary(c => c, c => Directory.CreateDirectory(Path.Combine(work, c)).FullName);
        var dropped = folders.ToDictionary(f => f.Key, f => PartImages.Write(f.Value, 40, prefix: f.Key, seed: f.Key.Length));
        await using var line = await Line.StartAsync();
        var (broker, subscriber) = (line.Broker, line.Subscriber);
        using var daemon = DaemonProcess.Start(line.Args(fixture, work,
            "--Cameras:0:Name=left", $"--Cameras:0:Source=folder:{folders["left"]}", "--Cameras:0:MaxFps=1.5",
            "--Cameras:1:Name=right", $"--Cameras:1:Source=folder:{folders["right"]}", "--Cameras:1:MaxFps=1.5"));
        await subscriber.WaitUntilAsync(r => r.OfKind("verdict", "left").Any() && r.OfKind("verdict", "right").Any(), Patience, "first verdicts of both cameras");

        broker.Stop();
        var down = DateTimeOffset.UtcNow;
        int processedAtStop = folders.Values.Sum(f => Processed(f).Count);
        // Two cameras at 1.5 parts/s: about 24 parts in the outage.
        await Task.Delay(TimeSpan.FromSeconds(8));
        int processedInOutage = folders.Values.Sum(f => Processed(f).Count) - processedAtStop;
        var up = DateTimeOffset.UtcNow;
        broker.Restart();
        await subscriber.ReconnectAsync(TimeSpan.FromSeconds(30));
        // The line did not wait for the broker: parts were decided and their files marked done from the outbox.
        Assert.True(processedInOutage >= 8, $"only {processedInOutage} files were processed while the broker was down\n{daemon.Output}");

        await subscriber.WaitUntilAsync(r => dropped.All(d => FrameRefs(r.OfKind("verdict", d.Key)).IsSupersetOf(d.Value)), Patience,
            "a verdict for every dropped file");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Outbox empty", daemon.Output);

        var received = subscriber.Received;
        Messages.AssertAllValid(received);
        foreach (var (camera, files) in dropped)
        {
            var verdicts = received.OfKind("verdict", camera).Json();
            AssertOneIdPerFrame(verdicts);
            // Each camera's verdicts arrive in the order its parts were decided (the folder's order), also across the outage.
            Assert.Equal(files, verdicts.DistinctBy(v => (string?)v["id"]).Select(v => (string)v["frameRef"]!));
            Assert.Equal(files.Order(), Processed(folders[camera]).Order());
        }

        var all = received.OfKind("verdict").Json();
        int decidedInOutage = all.DistinctBy(v => (string?)v["id"]).Count(v => (DateTimeOffset)v["decidedAt"]! > down && (DateTimeOffset)v["decidedAt"]! < up);
        Assert.True(decidedInOutage >= 20, $"{decidedInOutage} verdicts were decided while the broker was down");
        var events = received.OfKind("event").Json().Select(e => (string?)e["id"]).ToHashSet();
        Assert.Subset(events, all.Where(v => (string?)v["verdict"] != "ok").Select(v => (string?)v["id"]).ToHashSet());
    }

    [Fact]
    public async Task A_daemon_killed_mid_run_loses_no_decided_verdict_and_its_folder_resumes_where_it_stopped()
    {
        var (started, folder, dropped, args) = await FolderLineAsync("sigkill", 40, seed: 9);
        await using var line = started;
        var (broker, subscriber) = (line.Broker, line.Subscriber);

        using (var first = DaemonProcess.Start(args))
        {
            await subscriber.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 4, Patience, "first verdicts");
            // With the broker away, what is decided from now on is only in the outbox when the daemon dies.
            await StopBrokerWhileFilesAreProcessedAsync(broker, folder, 4, first);
            first.KillHard();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        var processedAtKill = Processed(folder);
        var deliveredBeforeKill = FrameRefs(subscriber.Received.OfKind("verdict"));
        Assert.NotEmpty(processedAtKill.Except(deliveredBeforeKill));
        Assert.NotEmpty(dropped.Except(processedAtKill));

        broker.Restart();
        await subscriber.ReconnectAsync(TimeSpan.FromSeconds(30));
        using var second = DaemonProcess.Start(args);
        await subscriber.WaitUntilAsync(r => FrameRefs(r.OfKind("verdict")).IsSupersetOf(dropped), Patience, "a verdict for every dropped file");
        await WaitUntilAsync(() => Processed(folder).Count == dropped.Count, TimeSpan.FromSeconds(30), "every file processed");
        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("from before the start wait for delivery", second.Output);

        var verdicts = subscriber.Received.OfKind("verdict").Json();
        Messages.AssertAllValid(subscriber.Received);
        // At least once and idempotent by id: every file has a verdict, and one that arrived twice came under one id.
        Assert.Equal(dropped.Order(), verdicts.Select(v => (string)v["frameRef"]!).Distinct().Order());
        AssertOneIdPerFrame(verdicts);
        Assert.Equal(dropped.Order(), Processed(folder).Order());
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public async Task SIGTERM_with_the_broker_away_keeps_what_was_not_delivered_for_the_next_start()
    {
        var (started, folder, dropped, args) = await FolderLineAsync("stop-offline", 24, seed: 4, "--Pipeline:DeliveryDrainSeconds=2");
        await using var line = started;
        var (broker, subscriber) = (line.Broker, line.Subscriber);

        using (var first = DaemonProcess.Start(args))
        {
            await subscriber.WaitForAsync(m => Messages.Kind(m.Topic) == "verdict", Patience, "first verdict");
            await StopBrokerWhileFilesAreProcessedAsync(broker, folder, 3, first);
            var clock = Stopwatch.StartNew();
            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            // Bounded: the drain, two seconds of trying to deliver, then goodbye.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"stop took {clock.Elapsed}");
            Assert.Contains("stay in the outbox", first.Output);
        }

        var processed = Processed(folder);
        Assert.NotEmpty(processed.Except(FrameRefs(subscriber.Received.OfKind("verdict"))));
        broker.Restart();
        await subscriber.ReconnectAsync(TimeSpan.FromSeconds(30));
        using var second = DaemonProcess.Start(args);
        await subscriber.WaitUntilAsync(r => FrameRefs(r.OfKind("verdict")).IsSupersetOf(dropped), Patience, "a verdict for every dropped file");
        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        AssertOneIdPerFrame(subscriber.Received.OfKind("verdict").Json());
    }

    /// <summary>
    /// A line of its own with one folder camera, "drop", taking 4 parts a second, slow enough to stop mid-folder, and
    /// <paramref name="parts"/> part images waiting in it.
    /// </summary>
    private async Task<(Line Line, string Folder, List<string> Dropped, List<string> Args)> FolderLineAsync(string name, int parts, int seed, params string[] more)
    {
        string work = fixture.NewFolder(name);
        string folder = Directory.CreateDirectory(Path.Combine(work, "drop")).FullName;
        var dropped = PartImages.Write(folder, parts, seed: seed);
        var line = await Line.StartAsync();
        return (line, folder, dropped, line.Args(fixture, work, ["--Cameras:0:Name=drop", $"--Cameras:0:Source=folder:{folder}", "--Cameras:0:MaxFps=4", .. more]));
    }

    /// <summary>Stops the broker and waits until <paramref name="files"/> more files are done: those are in the outbox only.</summary>
    private static async Task StopBrokerWhileFilesAreProcessedAsync(MosquittoBroker broker, string folder, int files, DaemonProcess daemon)
    {
        broker.Stop();
        int before = Processed(folder).Count;
        await WaitUntilAsync(() => Processed(folder).Count >= before + files, TimeSpan.FromSeconds(30), $"files processed with the broker down\n{daemon.Output}");
    }

    private static HashSet<string> Processed(string folder)
    {
        string processed = Path.Combine(folder, "processed");
        return Directory.Exists(processed) ? Directory.GetFiles(processed).Select(f => Path.GetFileName(f)).ToHashSet() : [];
    }

    private static HashSet<string> FrameRefs(IEnumerable<Received> verdicts) => verdicts.Json().Select(v => (string)v["frameRef"]!).ToHashSet();

    private static void AssertOneIdPerFrame(List<JsonObject> verdicts) =>
        Assert.All(verdicts.GroupBy(v => (string?)v["frameRef"]), g => Assert.Single(g.Select(v => (string?)v["id"]).Distinct()));

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>A Mosquitto of the test's own, with persistence, and an MES-like subscriber with a persistent session on it.</summary>
    private sealed class Line : IAsyncDisposable
    {
        private readonly string prefix = $"t{Guid.NewGuid():N}"[..12];

        private Line(MosquittoBroker broker) => Broker = broker;

        public MosquittoBroker Broker { get; }

        public TestSubscriber Subscriber { get; private set; } = null!;

        public static async Task<Line> StartAsync()
        {
            var line = new Line(MosquittoBroker.Start(persistence: true));
            try
            {
                line.Subscriber = await TestSubscriber.ConnectAsync(line.Broker.Port, [$"{line.prefix}/#"], $"mes-{line.prefix}", sessionExpirySeconds: 300);
                return line;
            }
            catch
            {
                line.Broker.Dispose();
                throw;
            }
        }

        /// <summary>A daemon on this broker and topic prefix, with its state in <paramref name="work"/>.</summary>
        public List<string> Args(DaemonFixture fixture, string work, params string[] more) =>
            fixture.RunArgs(Broker.Port, Path.Combine(work, "state"), [$"--Mqtt:TopicPrefix={prefix}", .. more]);

        public async ValueTask DisposeAsync()
        {
            await Subscriber.DisposeAsync();
            Broker.Dispose();
        }
    }
}
