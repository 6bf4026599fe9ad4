using System.Diagnostics;
using DefectInspector.Publish.Sparkplug;
using Xunit.Abstractions;

namespace DefectInspector.Publish.Tests;

/// <summary>
/// The Sparkplug B edge node against a real Mosquitto, every message decoded by an independent implementation (Eclipse
/// Tahu's sparkplug-payload for Node.js, see Sparkplug/decoder) rather than by the C# that wrote it.
/// </summary>
[Collection(SparkplugCollection.Name)]
public sealed class SparkplugTests(SparkplugDecoderPackage package, ITestOutputHelper output) : IDisposable
{
    private const string Group = "plant1-line1";
    private const string Edge = "station1";
    private static readonly string[] Cameras = ["cam-a", "cam-b"];

    private readonly string state = Directory.CreateTempSubdirectory("di-sparkplug-").FullName;
    private readonly ListLogger log = new();

    /// <summary>What the station knows of each camera now, as the daemon would keep it: the births read it.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SparkplugDeviceMetrics> current =
        new(Cameras.Select(c => KeyValuePair.Create(c, Metrics(c))));

    [Fact]
    public async Task Births_come_first_NBIRTH_with_seq_0_and_bdSeq_then_one_DBIRTH_per_camera_with_seq_1_to_n()
    {
        using var broker = MosquittoBroker.Start();
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using var node = CreateNode(broker.Port);
        await node.StartAsync(CancellationToken.None);

        var messages = await decoder.WaitUntilAsync(ms => ms.Count >= 3, "NBIRTH and two DBIRTHs");
        var birth = messages[0];
        Assert.Equal($"spBv1.0/{Group}/NBIRTH/{Edge}", birth.Topic);
        Assert.Equal(0, birth.Seq);
        AssertMetric(birth, "bdSeq", "UInt64", 0);
        AssertMetric(birth, "Node Control/Rebirth", "Boolean", false);
        AssertMetric(birth, "Properties/Version", "String", "1.2.3");
        AssertMetric(birth, "Properties/Model Sha256", "String", "ab12");

        Assert.Equal([$"spBv1.0/{Group}/DBIRTH/{Edge}/cam-a", $"spBv1.0/{Group}/DBIRTH/{Edge}/cam-b"], messages.Skip(1).Take(2).Select(m => m.Topic));
        Assert.Equal([1L, 2L], messages.Skip(1).Take(2).Select(m => m.Seq!.Value));
        var cameraA = messages[1];
        AssertMetric(cameraA, "Camera/State", "String", "running");
        AssertMetric(cameraA, "Camera/Fps", "Double", 12.5);
        AssertMetric(cameraA, "Counts/Ok", "UInt64", 7);
        AssertMetric(cameraA, "Counts/Ng", "UInt64", 2);
        AssertMetric(cameraA, "Counts/Uncertain", "UInt64", 1);
        AssertMetric(cameraA, "Counts/Error", "UInt64", 0);
        AssertMetric(cameraA, "Last Verdict/Verdict", "String", "ng");
        AssertMetric(cameraA, "Last Verdict/Result Code", "String", "NG_DEFECT");
        AssertMetric(cameraA, "Last Verdict/Defect Score", "Double", 0.91);
        AssertMetric(cameraA, "Last Verdict/Class", "String", "scratch");
        AssertMetric(cameraA, "Last Verdict/Part Id", "String", "P-1");
        AssertMetric(cameraA, "Last Verdict/Verdict Id", "String", "v-cam-a");
        AssertMetric(cameraA, "Trigger/Part Id", "String", null);

        // A camera that has decided nothing yet: its verdict metrics are typed nulls.
        AssertMetric(messages[2], "Last Verdict/Defect Score", "Double", null);
        AssertMetric(messages[2], "Last Verdict/Verdict Id", "String", null);
    }

    [Fact]
    public async Task Decided_gives_DDATA_with_the_verdict_stamped_at_its_decision_and_seq_goes_on_without_gaps()
    {
        using var broker = MosquittoBroker.Start();
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using var node = CreateNode(broker.Port);
        await node.StartAsync(CancellationToken.None);
        await decoder.WaitForAsync("DBIRTH", 2);

        var decidedAt = new DateTimeOffset(2026, 3, 4, 5, 6, 7, 89, TimeSpan.Zero);
        node.Decided("cam-b", Verdict("cam-b", "v-1", "P-100", "ok"), decidedAt);
        node.StateChanged("cam-a", Metrics("cam-a") with { State = "stalled", Fps = 0 });
        node.Decided("cam-a", Verdict("cam-a", "v-2", "P-101", "ng"), decidedAt.AddSeconds(1));

        var messages = await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(ms, "DDATA").Count >= 3, "three DDATA");
        Assert.Equal([0L, 1, 2, 3, 4, 5], messages.Select(m => m.Seq!.Value));
        var data = SparkplugDecoder.Of(messages, "DDATA");
        Assert.Equal(["cam-b", "cam-a", "cam-a"], data.Select(m => m.Device));

        Assert.Equal(decidedAt.ToUnixTimeMilliseconds(), data[0].Timestamp);
        AssertMetric(data[0], "Last Verdict/Verdict Id", "String", "v-1");
        AssertMetric(data[0], "Last Verdict/Part Id", "String", "P-100");
        AssertMetric(data[0], "Last Verdict/Verdict", "String", "ok");
        AssertMetric(data[0], "Counts/Ok", "UInt64", 1);
        Assert.All(data[0].Metrics, m => Assert.Null(m["isHistorical"]));

        AssertMetric(data[1], "Camera/State", "String", "stalled");
        AssertMetric(data[1], "Camera/Fps", "Double", 0);

        Assert.Equal(decidedAt.AddSeconds(1).ToUnixTimeMilliseconds(), data[2].Timestamp);
        AssertMetric(data[2], "Last Verdict/Verdict Id", "String", "v-2");
        AssertMetric(data[2], "Last Verdict/Verdict", "String", "ng");
    }

    [Fact]
    public async Task BdSeq_is_persisted_and_incremented_across_node_instances_and_wraps_after_255()
    {
        using var broker = MosquittoBroker.Start();
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using (var first = CreateNode(broker.Port))
        {
            await first.StartAsync(CancellationToken.None);
            await decoder.WaitForAsync("NBIRTH", 1);
        }

        await using (var second = CreateNode(broker.Port))
        {
            await second.StartAsync(CancellationToken.None);
            await decoder.WaitForAsync("NBIRTH", 2);
        }

        Assert.Equal("1", File.ReadAllText(Path.Combine(state, "sparkplug-bdseq")).Trim());
        File.WriteAllText(Path.Combine(state, "sparkplug-bdseq"), "255\n");
        await using (var third = CreateNode(broker.Port))
        {
            await third.StartAsync(CancellationToken.None);
            await decoder.WaitForAsync("NBIRTH", 3);
        }

        var births = SparkplugDecoder.Of(decoder.Messages, "NBIRTH");
        Assert.Equal([0L, 1, 0], births.Select(b => (long)b.Metric("bdSeq")["value"]!));
        Assert.Equal("0", File.ReadAllText(Path.Combine(state, "sparkplug-bdseq")).Trim());

        // Written through a temporary file and a rename: nothing else is left in the folder.
        Assert.Equal(["sparkplug-bdseq"], Directory.GetFiles(state).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_connection_killed_without_DISCONNECT_gives_the_Will_NDEATH_with_the_births_bdSeq()
    {
        using var broker = MosquittoBroker.Start();
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using var proxy = new TcpProxy(broker.Port);
        await using var node = CreateNode(proxy.Port);
        await node.StartAsync(CancellationToken.None);
        var birth = await decoder.WaitForAsync("NBIRTH", 1);
        await decoder.WaitForAsync("DBIRTH", 2);

        proxy.CutAll();

        var death = await decoder.WaitForAsync("NDEATH");
        Assert.Equal($"spBv1.0/{Group}/NDEATH/{Edge}", death.Topic);
        Assert.Equal((long)birth.Metric("bdSeq")["value"]!, (long)death.Metric("bdSeq")["value"]!);
        Assert.Equal("UInt64", (string?)death.Metric("bdSeq")["type"]);
        Assert.Null(death.Seq);

        // The node comes back through the proxy on its own, with the next bdSeq and a fresh seq.
        var rebirth = await decoder.WaitForAsync("NBIRTH", 2);
        Assert.Equal(BdSeqInFile(), (long)rebirth.Metric("bdSeq")["value"]!);
        Assert.NotEqual((long)birth.Metric("bdSeq")["value"]!, (long)rebirth.Metric("bdSeq")["value"]!);
        Assert.Equal(0, rebirth.Seq);
    }

    [Fact]
    public async Task Rebirth_command_gives_a_new_NBIRTH_with_seq_0_and_the_DBIRTHs_within_2_s()
    {
        using var broker = MosquittoBroker.Start();
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using var node = CreateNode(broker.Port);
        await node.StartAsync(CancellationToken.None);
        await decoder.WaitForAsync("DBIRTH", 2);
        current["cam-a"] = Verdict("cam-a", "v-1", "P-1", "ok");
        node.Decided("cam-a", current["cam-a"], DateTimeOffset.UtcNow);
        await decoder.WaitForAsync("DDATA");

        var clock = Stopwatch.StartNew();
        await decoder.SendAsync($"spBv1.0/{Group}/NCMD/{Edge}", new { name = "Node Control/Rebirth", type = "Boolean", value = true });
        var messages = await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(ms, "DBIRTH").Count >= 4, "the second DBIRTHs");
        var elapsed = clock.Elapsed;
        output.WriteLine($"Rebirth answered in {elapsed.TotalMilliseconds:0} ms");

        var after = messages.Skip(4).ToList();
        Assert.Equal(["NBIRTH", "DBIRTH", "DBIRTH"], after.Select(m => m.Type));
        Assert.Equal([0L, 1, 2], after.Select(m => m.Seq!.Value));
        Assert.Equal((long)messages[0].Metric("bdSeq")["value"]!, (long)after[0].Metric("bdSeq")["value"]!);

        // The DBIRTH carries the camera's metrics of now, the decided verdict included.
        AssertMetric(after[1], "Last Verdict/Verdict Id", "String", "v-1");
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"the births took {elapsed.TotalMilliseconds:0} ms after the NCMD");
    }

    [Fact]
    public async Task Device_command_writing_Trigger_Part_Id_raises_TriggerReceived_with_the_camera_and_part_id()
    {
        using var broker = MosquittoBroker.Start();
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using var node = CreateNode(broker.Port);
        var triggered = new TaskCompletionSource<(string Camera, string PartId)>(TaskCreationOptions.RunContinuationsAsynchronously);
        node.TriggerReceived = (camera, partId) =>
        {
            triggered.TrySetResult((camera, partId));
            return Task.CompletedTask;
        };
        await node.StartAsync(CancellationToken.None);
        await decoder.WaitForAsync("DBIRTH", 2);

        // A metric the node does not take is ignored (and said so); the trigger after it is the one that counts.
        await decoder.SendAsync($"spBv1.0/{Group}/DCMD/{Edge}/cam-a", new { name = "Camera/State", type = "String", value = "stopped" });
        await decoder.SendAsync($"spBv1.0/{Group}/DCMD/{Edge}/cam-b", new { name = "Trigger/Part Id", type = "String", value = "P-42" });

        var (camera, partId) = await triggered.Task.WaitAsync(SparkplugDecoder.Wait);
        Assert.Equal("cam-b", camera);
        Assert.Equal("P-42", partId);
        Assert.True(log.Has(Microsoft.Extensions.Logging.LogLevel.Warning, "Ignored the Sparkplug command metric Camera/State to cam-a"));
    }

    [Fact]
    public async Task DDATA_decided_while_the_broker_is_down_arrive_after_the_new_births_as_historical()
    {
        // The decoder keeps its session, and Mosquitto its sessions (persistence) and QoS 0 messages for them, so what
        // the node sends before the decoder is back from the restart waits for it.
        using var broker = MosquittoBroker.Start(extraConfig: "queue_qos0_messages true", persistence: true);
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using var node = CreateNode(broker.Port);
        await node.StartAsync(CancellationToken.None);
        await decoder.WaitForAsync("DBIRTH", 2);

        broker.Stop();
        await WaitUntilAsync(() => !node.IsConnected, "the node to notice the broker is gone");
        // Whole milliseconds: Sparkplug timestamps have no finer grain.
        var decidedAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        node.Decided("cam-a", Verdict("cam-a", "v-h1", "P-1", "ok"), decidedAt);
        node.Decided("cam-b", Verdict("cam-b", "v-h2", "P-2", "ng"), decidedAt.AddMilliseconds(10));
        node.Decided("cam-a", Verdict("cam-a", "v-h3", "P-3", "ok"), decidedAt.AddMilliseconds(20));
        broker.Restart();

        var messages = await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(ms, "DDATA").Count >= 3, "the three held DDATA");
        node.Decided("cam-b", Verdict("cam-b", "v-live", "P-4", "ok"), DateTimeOffset.UtcNow);
        messages = await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(ms, "DDATA").Count >= 4, "the live DDATA");
        foreach (var m in messages)
        {
            output.WriteLine(m.ToString());
        }

        // Mosquitto publishes the node's Will when it shuts down (the node is dead to hosts while the broker is): that
        // NDEATH, with the first bdSeq, is not what this test is about.
        Assert.All(SparkplugDecoder.Of(messages, "NDEATH"), death => Assert.Equal(0L, (long)death.Metric("bdSeq")["value"]!));
        var after = messages.Skip(3).Where(m => m.Type != "NDEATH").ToList();
        Assert.Equal(["NBIRTH", "DBIRTH", "DBIRTH", "DDATA", "DDATA", "DDATA", "DDATA"], after.Select(m => m.Type));
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6], after.Select(m => m.Seq!.Value));

        // Every CONNECT takes the next bdSeq, the refused ones during the outage too: the births carry the last one.
        Assert.Equal(BdSeqInFile(), (long)after[0].Metric("bdSeq")["value"]!);
        Assert.NotEqual(0L, BdSeqInFile());

        var held = after.Skip(3).Take(3).ToList();
        Assert.Equal(["v-h1", "v-h2", "v-h3"], held.Select(m => (string?)m.Metric("Last Verdict/Verdict Id")["value"]));
        Assert.Equal([decidedAt, decidedAt.AddMilliseconds(10), decidedAt.AddMilliseconds(20)],
            held.Select(m => DateTimeOffset.FromUnixTimeMilliseconds(m.Timestamp!.Value)));
        Assert.All(held.SelectMany(m => m.Metrics), metric => Assert.True((bool?)metric["isHistorical"], $"not historical: {metric.ToJsonString()}"));

        var live = after[6];
        Assert.Equal("v-live", (string?)live.Metric("Last Verdict/Verdict Id")["value"]);
        Assert.All(live.Metrics, metric => Assert.Null(metric["isHistorical"]));
    }

    [Fact]
    public async Task Beyond_the_history_capacity_the_oldest_held_DDATA_are_dropped_and_counted()
    {
        using var broker = MosquittoBroker.Start(extraConfig: "queue_qos0_messages true", persistence: true);
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using var node = CreateNode(broker.Port, historyCapacity: 2);
        await node.StartAsync(CancellationToken.None);
        await decoder.WaitForAsync("DBIRTH", 2);

        broker.Stop();
        await WaitUntilAsync(() => !node.IsConnected, "the node to notice the broker is gone");
        foreach (string id in new[] { "v-1", "v-2", "v-3" })
        {
            node.Decided("cam-a", Verdict("cam-a", id, "P-1", "ok"), DateTimeOffset.UtcNow);
        }

        broker.Restart();
        await decoder.WaitForAsync("DBIRTH", 4);
        var messages = await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(ms, "DDATA").Count >= 2, "the two DDATA kept");
        Assert.Equal(["v-2", "v-3"], SparkplugDecoder.Of(messages, "DDATA").Select(m => (string?)m.Metric("Last Verdict/Verdict Id")["value"]));
        await WaitUntilAsync(() => log.Has(Microsoft.Extensions.Logging.LogLevel.Information, "(1 older ones were dropped)"), "the count of dropped DDATA in the log");
        Assert.True(log.Has(Microsoft.Extensions.Logging.LogLevel.Warning, "Sparkplug history is full (2 DDATA held while disconnected)"));
    }

    [Fact]
    public async Task Clean_stop_publishes_one_NDEATH_with_the_current_bdSeq_and_no_Will()
    {
        using var broker = MosquittoBroker.Start();
        using var decoder = await SparkplugDecoder.StartAsync(package, broker.Port);
        await using (var node = CreateNode(broker.Port))
        {
            await node.StartAsync(CancellationToken.None);
            await decoder.WaitForAsync("DBIRTH", 2);
            await node.StopAsync(CancellationToken.None);
        }

        var death = await decoder.WaitForAsync("NDEATH");
        Assert.Equal(0L, (long)death.Metric("bdSeq")["value"]!);
        Assert.Null(death.Seq);

        // A later node's birth comes after whatever the broker published for the first one: a Will would be a second NDEATH.
        await using var next = CreateNode(broker.Port);
        await next.StartAsync(CancellationToken.None);
        var messages = await decoder.WaitUntilAsync(ms => SparkplugDecoder.Of(ms, "NBIRTH").Count >= 2, "the next node's NBIRTH");
        Assert.Single(SparkplugDecoder.Of(messages, "NDEATH"));
        Assert.Equal(["NBIRTH", "DBIRTH", "DBIRTH", "NDEATH", "NBIRTH"], messages.Take(5).Select(m => m.Type));
    }

    public void Dispose()
    {
        foreach (var (level, message) in log.Entries)
        {
            output.WriteLine($"{level}: {message}");
        }

        Directory.Delete(state, recursive: true);
    }

    private long BdSeqInFile() => long.Parse(File.ReadAllText(Path.Combine(state, "sparkplug-bdseq")), System.Globalization.CultureInfo.InvariantCulture);

    private SparkplugNode CreateNode(int port, int historyCapacity = 10_000) =>
        new(new MqttOptions { Host = "127.0.0.1", Port = port, KeepAliveSeconds = 2 }, Group, Edge, "defect-inspector-plant1-line1-station1-sparkplug",
            Cameras, new Dictionary<string, string> { ["Version"] = "1.2.3", ["Model Sha256"] = "ab12" }, camera => current[camera], state, log)
        {
            Timing = Publishers.Fast,
            HistoryCapacity = historyCapacity,
        };

    /// <summary>The cameras at the start: cam-a has decided a verdict, cam-b nothing yet.</summary>
    private static SparkplugDeviceMetrics Metrics(string camera) => camera == "cam-a"
        ? new("running", 12.5, 7, 2, 1, 0, "ng", "NG_DEFECT", 0.91, "scratch", "P-1", "v-cam-a")
        : new("running", 10, 0, 0, 0, 0, null, null, null, null, null, null);

    private static SparkplugDeviceMetrics Verdict(string camera, string verdictId, string partId, string verdict) =>
        Metrics(camera) with
        {
            Ok = Metrics(camera).Ok + 1,
            LastVerdict = verdict,
            ResultCode = verdict == "ok" ? "OK" : "NG_DEFECT",
            DefectScore = verdict == "ok" ? 0.1 : 0.9,
            PredictedClass = verdict == "ok" ? "good" : "scratch",
            PartId = partId,
            VerdictId = verdictId,
        };

    private static void AssertMetric(SparkplugMessage message, string name, string type, object? value)
    {
        var metric = message.Metric(name);
        Assert.Equal(type, (string?)metric["type"]);
        var actual = metric["value"];
        switch (value)
        {
            case null:
                Assert.Null(actual);
                break;
            case string s:
                Assert.Equal(s, (string?)actual);
                break;
            case bool b:
                Assert.Equal(b, (bool?)actual);
                break;
            default:
                Assert.NotNull(actual);
                Assert.Equal(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), actual.GetValue<double>(), 9);
                break;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > SparkplugDecoder.Wait)
            {
                throw new Xunit.Sdk.XunitException($"waited {clock.Elapsed.TotalSeconds:0} s for {what}");
            }

            await Task.Delay(50);
        }
    }
}
