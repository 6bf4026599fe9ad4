using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

public sealed class FleetTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    [Fact]
    public async Task Two_stations_on_one_broker_keep_their_streams_separate_and_complete_and_MES_shares_the_events()
    {
        string work = fixture.NewFolder("fleet");
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        var stations = new[] { "press-1", "press-2" };
        var drops = stations.ToDictionary(s => s, s => Directory.CreateDirectory(Path.Combine(work, s, "drop")).FullName);

        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        // Two MES consumers in one shared-subscription group: each event goes to one of them.
        await using var mesA = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"$share/mes/{prefix}/+/+/+/event/+"]);
        await using var mesB = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"$share/mes/{prefix}/+/+/+/event/+"]);

        var daemons = stations.Select(s => DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, s, "state"),
            $"--Mqtt:TopicPrefix={prefix}", $"--Station:Station={s}", "--Mqtt:ClientId=", "--Cameras:0:Name=cam", $"--Cameras:0:Source=folder:{drops[s]}"))).ToList();
        try
        {
            var names = stations.ToDictionary(s => s, s => PartImages.Write(drops[s], 8, prefix: s, seed: s.Length + s[^1]));
            await all.WaitUntilAsync(r => stations.All(s => r.OfKind("verdict").Count(m => m.Topic.Contains($"/{s}/", StringComparison.Ordinal)) >= 8),
                TimeSpan.FromSeconds(120), "eight verdicts from each station");
            await Task.Delay(1000);

            var received = all.Received;
            Messages.AssertAllValid(received);
            foreach (var s in stations)
            {
                var mine = received.OfKind("verdict").Where(m => m.Topic == $"{prefix}/plant/line1/{s}/verdict/cam").Json();
                Assert.Equal(names[s].Order(), mine.Select(v => (string)v["frameRef"]!).Order());
                Assert.All(mine, v => Assert.Equal(s, (string?)v["station"]));
            }
            var ids = received.OfKind("verdict").Json().Select(v => (string?)v["id"]).ToList();
            Assert.Equal(16, ids.Count);
            Assert.Equal(16, ids.Distinct().Count());

            var events = received.OfKind("event").Json().Select(e => (string?)e["id"]).Order().ToList();
            Assert.NotEmpty(events);
            var shared = mesA.Received.Concat(mesB.Received).Json().Select(e => (string?)e["id"]).Order().ToList();
            Assert.Equal(events, shared);

            // Each station connected under its own client id.
            foreach (var s in stations)
                Assert.Contains($"defect-inspector-plant-line1-{s}", fixture.Broker.Output);
        }
        finally
        {
            foreach (var d in daemons)
            {
                d.Terminate();
                await d.WaitForExitAsync(TimeSpan.FromSeconds(60));
                d.Dispose();
            }
        }
    }
}
