using System.Diagnostics;
using DefectInspector.Host.Tests.Infrastructure;
using Xunit.Abstractions;

namespace DefectInspector.Host.Tests;

/// <summary>
/// The daemon as a Sparkplug B edge node beside its JSON topics, on a real Mosquitto, every Sparkplug message decoded by
/// an independent implementation (Eclipse Tahu's sparkplug-payload for Node.js): what SCADA sees must be the verdicts
/// MES sees, and a station killed outright must be declared dead with the births' bdSeq.
/// </summary>
public sealed class SparkplugEdgeTests(DaemonFixture fixture, SparkplugDecoderPackage package, ITestOutputHelper output) : IClassFixture<DaemonFixture>, IClassFixture<SparkplugDecoderPackage>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Births_per_camera_DDATA_per_verdict_DCMD_triggers_Rebirth_and_NDEATH_on_kill()
    {
        string work = fixture.NewFolder("sparkplug");
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        string group = $"g{prefix}";
        using var decoder = await SparkplugDecoder.StartAsync(package, fixture.Broker.Port);
        await using var json = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Station:Station=s7", "--Sparkplug:Enabled=true", $"--Sparkplug:GroupId={group}",
            "--Cameras:0:Name=gate", "--Cameras:0:Source=virtual", "--Cameras:0:Trigger=mqtt", "--Cameras:0:VirtualFps=2",
            "--Cameras:1:Name=side", "--Cameras:1:Source=virtual", "--Cameras:1:Trigger=mqtt", "--Cameras:1:VirtualFps=2"));
        IReadOnlyList<SparkplugMessage> Ours(IEnumerable<SparkplugMessage> messages) => [.. messages.Where(m => m.Topic.StartsWith($"spBv1.0/{group}/", StringComparison.Ordinal))];

        var births = await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(Ours(ms), "DBIRTH").Count >= 2, "NBIRTH and a DBIRTH per camera");
        var nbirth = Ours(births)[0];
        Assert.Equal($"spBv1.0/{group}/NBIRTH/s7", nbirth.Topic);
        Assert.Equal(0, nbirth.Seq);
        ulong bdSeq = nbirth.Metric("bdSeq")["value"]!.GetValue<ulong>();
        Assert.Equal(["gate", "side"], SparkplugDecoder.Of(Ours(births), "DBIRTH").Select(m => m.Device).Order());
        Assert.False(string.IsNullOrEmpty((string?)nbirth.Metric("Properties/Config Hash")["value"]));

        // A part triggered over Sparkplug and one over the JSON contract: each verdict reaches SCADA as its camera's DDATA.
        await json.WaitForAsync(m => Messages.Kind(m.Topic) == "camera-status" && m.Text.Contains("\"online\""), Patience, "a camera online");
        await decoder.SendAsync($"spBv1.0/{group}/DCMD/s7/gate", new { name = "Trigger/Part Id", type = "String", value = "P-sp" });
        await json.PublishAsync($"{prefix}/plant/line1/s7/trigger/side", """{"partId":"P-json"}""");
        await json.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 2, Patience, "two verdicts");
        var verdicts = json.Received.OfKind("verdict").Json();
        Assert.Equal(["P-json", "P-sp"], verdicts.Select(v => (string?)v["partId"]).Order());
        foreach (var verdict in verdicts)
        {
            string camera = (string)verdict["camera"]!;
            string id = (string)verdict["id"]!;
            var data = await decoder.WaitUntilAsync(
                ms => SparkplugDecoder.Of(Ours(ms), "DDATA", camera).Any(d => VerdictId(d) == id), $"the DDATA of verdict {id} on {camera}");
            var ddata = SparkplugDecoder.Of(Ours(data), "DDATA", camera).First(d => VerdictId(d) == id);
            Assert.Equal((string?)verdict["partId"], (string?)ddata.Metric("Last Verdict/Part Id")["value"]);
            Assert.Equal((string?)verdict["resultCode"], (string?)ddata.Metric("Last Verdict/Result Code")["value"]);
            Assert.Equal((double)verdict["defectScore"]!, ddata.Metric("Last Verdict/Defect Score")["value"]!.GetValue<double>(), 6);
        }

        // Node Control/Rebirth: new births within 2 s.
        var clock = Stopwatch.StartNew();
        await decoder.SendAsync($"spBv1.0/{group}/NCMD/s7", new { name = "Node Control/Rebirth", type = "Boolean", value = true });
        await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(Ours(ms), "DBIRTH").Count >= 4, "the births after Rebirth");
        output.WriteLine($"Rebirth answered in {clock.ElapsedMilliseconds} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"Rebirth took {clock.ElapsedMilliseconds} ms");

        // kill -9: the broker sends the node's will, NDEATH, carrying the bdSeq of the births it ends.
        daemon.KillHard();
        var all = await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(Ours(ms), "NDEATH").Count >= 1, "NDEATH after kill -9");
        var death = SparkplugDecoder.Of(Ours(all), "NDEATH").Single();
        Assert.Equal(bdSeq, death.Metric("bdSeq")["value"]!.GetValue<ulong>());
        Assert.Equal(bdSeq, SparkplugDecoder.Of(Ours(all), "NBIRTH").Last().Metric("bdSeq")["value"]!.GetValue<ulong>());

        // seq runs 0-255 without gaps over everything the node sent, starting again at 0 with each NBIRTH.
        var sequenced = Ours(all).Where(m => m.Type != "NDEATH" && m.Type != "NCMD" && m.Type != "DCMD").ToList();
        for (int i = 1; i < sequenced.Count; i++)
        {
            long expected = sequenced[i].Type == "NBIRTH" ? 0 : (sequenced[i - 1].Seq!.Value + 1) % 256;
            Assert.True(expected == sequenced[i].Seq, $"seq gap at {sequenced[i]} after {sequenced[i - 1]}");
        }
    }

    private static string? VerdictId(SparkplugMessage data) =>
        data.Metrics.FirstOrDefault(m => (string?)m["name"] == "Last Verdict/Verdict Id")?["value"]?.GetValue<string>();
}
