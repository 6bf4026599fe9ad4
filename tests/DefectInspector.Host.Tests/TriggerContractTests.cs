using System.Text;
using System.Text.Json.Nodes;
using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

/// <summary>
/// The MES/SCADA trigger contract against a real daemon and Mosquitto: one answer per trigger on its response topic,
/// exactly one verdict per accepted trigger, and never a part id on a frame its trigger did not ask for.
/// </summary>
public sealed class TriggerContractTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Each_trigger_gets_one_answer_and_each_accepted_one_one_verdict_carrying_its_context()
    {
        string work = fixture.NewFolder("trigger-v2");
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        string replies = $"r{prefix}/plc";
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#", replies]);
        // 0.4 parts a second: the part after the first comes 2.5 s later, which a trigger with a 1 s expiry does not survive.
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Station:Station=s9", "--Cameras:0:Name=gate", "--Cameras:0:Source=virtual", "--Cameras:0:Trigger=mqtt",
            "--Cameras:0:VirtualFps=0.4", "--Cameras:0:TriggerQueueCapacity=2", "--Model:DefectCodes:defect=D-9"));
        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "camera-status" && m.Text.Contains("\"online\""), Patience, "camera online");
        string gate = $"{prefix}/plant/line1/s9/trigger/gate";
        const string context = """{"lot":"L-77","order":4711,"recipe":{"name":"tile-40","rev":3},"shift":null}""";

        await Send(all, gate, $$"""{"partId":"P-1","commandId":"c-1","context":{{context}}}""", replies, "1");
        await Send(all, gate, """{"partId":"P-1","commandId":"c-1"}""", replies, "1-again");
        await all.WaitForAsync(m => m.Topic == replies && m.Correlation == "1", Patience, "P-1 accepted");
        await Send(all, gate, """{"partId":"P-2"}""", replies, "2", expirySeconds: 1);
        await Task.Delay(500); // the camera has taken P-2 and waits for its part
        await Send(all, gate, """{"partId":"P-3"}""", replies, "3");
        await Send(all, gate, """{"partId":"P-4"}""", replies, "4");
        await Send(all, gate, """{"partId":"P-5"}""", replies, "5");
        await Send(all, $"{prefix}/plant/line1/s9/trigger/nocam", """{"partId":"P-6"}""", replies, "unknown");
        await Send(all, gate, """{"part":"P-7"}""", replies, "invalid");
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 3 && r.Count(m => m.Topic == replies) >= 8, Patience, "three verdicts and eight replies");
        await Task.Delay(1000);
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        var answers = all.Received.Where(m => m.Topic == replies).ToList();
        Assert.Equal(8, answers.Count);
        foreach (var answer in answers)
        {
            ContractSchemas.AssertValid("trigger-reply", answer.Text);
            Assert.Equal("trigger-reply/2.0", answer.Schema);
        }
        var byCorrelation = answers.ToDictionary(a => a.Correlation!, a => JsonNode.Parse(a.Text)!);
        string Code(string correlation) => (string)byCorrelation[correlation]["resultCode"]!;
        Assert.Equal(
            ["accepted", "duplicate", "expired", "accepted", "accepted", "queue-full", "unknown-camera", "invalid"],
            new[] { "1", "1-again", "2", "3", "4", "5", "unknown", "invalid" }.Select(Code));

        var verdicts = all.Received.OfKind("verdict").ToList();
        Messages.AssertAllValid(all.Received.Where(m => m.Topic != replies));
        var json = verdicts.Json();
        Assert.Equal(["P-1", "P-3", "P-4"], json.Select(v => (string?)v["partId"]));
        Assert.Equal([(string?)byCorrelation["1"]["verdictId"], (string?)byCorrelation["3"]["verdictId"], (string?)byCorrelation["4"]["verdictId"]],
            json.Select(v => (string?)v["id"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(context), json[0]["context"]), $"context came back as {json[0]["context"]}");
        Assert.Equal("c-1", (string?)json[0]["commandId"]);
        Assert.All(json, v => Assert.Equal((string?)v["verdict"], (string?)v["resultCode"]));
        Assert.All(json.Where(v => (string?)v["predictedClass"] == "defect"), v => Assert.Equal("D-9", (string?)v["defectCode"]));
        Assert.All(verdicts, v => Assert.Equal("verdict/2.0", v.Schema));

        // The retained descriptor, whose hash every verdict and the station status carry.
        var config = JsonNode.Parse(all.Received.Single(m => m.Topic.EndsWith("/config", StringComparison.Ordinal)).Text)!;
        string hash = (string)config["configHash"]!;
        Assert.All(json, v => Assert.Equal(hash, (string?)v["configHash"]));
        Assert.Equal(hash, (string?)all.Received.OfKind("status").Json().First(s => (string?)s["state"] == "online")["configHash"]);
        Assert.Equal("D-9", (string?)config["defectCodes"]!["defect"]);
        Assert.Equal("virtual", (string?)config["cameras"]![0]!["sourceKind"]);
        Assert.Equal(2, (int?)config["cameras"]![0]!["triggerQueueCapacity"]);
    }

    [Fact]
    public async Task A_camera_that_goes_away_refuses_its_triggers_and_never_puts_them_on_a_frame_taken_after_it_is_back()
    {
        string work = fixture.NewFolder("trigger-offline");
        using var frame = TestVideos.Frame(1);
        using var camera = new MjpegTestServer(frame.ImEncode(".jpg"), fps: 10);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        string replies = $"r{prefix}/plc";
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#", replies]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Station:Station=s9", "--Cameras:0:Name=mj", $"--Cameras:0:Source={camera.Url}", "--Cameras:0:Trigger=mqtt",
            "--Pipeline:StallTimeoutSeconds=3"));
        string trigger = $"{prefix}/plant/line1/s9/trigger/mj";
        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "camera-status" && m.Text.Contains("\"online\""), Patience, "camera online");

        // A stream's first open can take longer than the stall limit; frames flow once a trigger is taken.
        string? first = null;
        for (int attempt = 0; first is null && attempt < 30; attempt++)
        {
            await Send(all, trigger, $$"""{"partId":"P-{{attempt}}"}""", replies, $"first-{attempt}");
            var answer = await all.WaitForAsync(m => m.Topic == replies && m.Correlation == $"first-{attempt}", Patience, "a reply to a first trigger");
            if ((string?)JsonNode.Parse(answer.Text)!["result"] == "accepted") first = $"P-{attempt}";
            else await Task.Delay(1000);
        }
        Assert.NotNull(first);
        // The camera stops sending: a trigger now finds no frame, and waits until the camera is declared away.
        camera.Hang();
        await Send(all, trigger, """{"partId":"P-waiting"}""", replies, "waiting");
        var waiting = await all.WaitForAsync(m => m.Topic == replies && m.Correlation == "waiting", Patience, "the waiting trigger answered");
        await all.WaitForAsync(m => Messages.Kind(m.Topic) == "camera-status" && !m.Text.Contains("\"online\""), Patience, "camera away");
        await Send(all, trigger, """{"partId":"P-away"}""", replies, "away");
        var away = await all.WaitForAsync(m => m.Topic == replies && m.Correlation == "away", Patience, "the trigger sent while away answered");
        camera.Resume();
        await all.WaitUntilAsync(r => OnlineAgain(r), Patience, "camera online again");
        await Task.Delay(1000);
        await Send(all, trigger, """{"partId":"P-after"}""", replies, "after");
        try
        {
            await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 2, Patience, "the verdict of the part after");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{string.Join("\n", all.Received.Where(m => m.ContentType == "application/json").Select(m => $"{m.Topic} {m.Correlation} {m.Text}"))}\n{daemon.Output}");
        }
        await Task.Delay(2000); // a stale trigger, if one had been kept, would land on one of these frames
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal("camera-offline", (string?)JsonNode.Parse(waiting.Text)!["resultCode"]);
        Assert.Equal("camera-offline", (string?)JsonNode.Parse(away.Text)!["resultCode"]);
        Assert.Equal([first, "P-after"], all.Received.OfKind("verdict").Json().Select(v => (string?)v["partId"]));
        Assert.Equal("accepted", (string?)JsonNode.Parse(all.Received.Single(m => m.Correlation == "after" && m.Topic == replies).Text)!["resultCode"]);
        Messages.AssertAllValid(all.Received.Where(m => m.Topic != replies));
        foreach (var answer in all.Received.Where(m => m.Topic == replies))
            ContractSchemas.AssertValid("trigger-reply", answer.Text);
    }

    [Fact]
    public async Task A_triggered_part_that_cannot_be_inspected_gets_an_error_verdict_and_event_with_its_result_code()
    {
        string work = fixture.NewFolder("trigger-error");
        string video = TestVideos.Write(Path.Combine(work, "two.avi"), frames: 2);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        string replies = $"r{prefix}/plc";
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#", replies]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", "--Station:Station=s9",
            "--Cameras:0:Name=file", $"--Cameras:0:Source=file:{video}", "--Cameras:0:Loop=false", "--Cameras:0:RealTime=false", "--Cameras:0:Trigger=mqtt",
            "--Cameras:1:Name=roi", "--Cameras:1:Source=virtual", "--Cameras:1:Trigger=mqtt", "--Cameras:1:Roi=4000,4000,64,64"));
        await all.WaitUntilAsync(r => r.OfKind("camera-status").Json().Count(s => (string?)s["state"] == "online") >= 2, Patience, "both cameras online");
        string root = $"{prefix}/plant/line1/s9/trigger";

        foreach (string part in new[] { "F-1", "F-2", "F-3" })
            await Send(all, $"{root}/file", $$"""{"partId":"{{part}}"}""", replies, part);
        await Send(all, $"{root}/roi", """{"partId":"R-1","context":{"lot":"L-1"}}""", replies, "R-1");
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= 4, Patience, "four verdicts");
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        Messages.AssertAllValid(all.Received.Where(m => m.Topic != replies));
        var verdicts = all.Received.OfKind("verdict").Json().ToDictionary(v => (string)v["partId"]!);
        Assert.Equal(["F-1", "F-2", "F-3", "R-1"], verdicts.Keys.Order());
        Assert.All(new[] { "F-1", "F-2" }, p => Assert.NotEqual("error", (string?)verdicts[p]["verdict"]));
        AssertError(verdicts["F-3"], "capture-failed", 10, "the source ended");
        AssertError(verdicts["R-1"], "roi-outside-frame", 11, "Roi 4000,4000,64,64");
        Assert.Equal("L-1", (string?)verdicts["R-1"]["context"]!["lot"]);
        // The part needs someone to act on it: its event goes to MES like an NG part's.
        var events = all.Received.OfKind("event").Json();
        Assert.Contains(events, e => (string?)e["id"] == (string?)verdicts["F-3"]["id"] && (string?)e["resultCode"] == "capture-failed");
        Assert.Contains(events, e => (string?)e["id"] == (string?)verdicts["R-1"]["id"] && (string?)e["verdict"] == "error");
        // Accepted first, with the id the error verdict then carries.
        var accepted = JsonNode.Parse(all.Received.Single(m => m.Topic == replies && m.Correlation == "F-3").Text)!;
        Assert.Equal(((string?)accepted["resultCode"], (string?)accepted["verdictId"]), ("accepted", (string?)verdicts["F-3"]["id"]));
    }

    [Fact]
    public void A_defect_code_for_a_class_the_model_does_not_have_stops_the_start_naming_the_key()
    {
        string work = fixture.NewFolder("defect-codes");
        var (exit, output) = DaemonProcess.Run(fixture.RunArgs(Path.Combine(work, "state"),
            "--Cameras:0:Name=cam", "--Cameras:0:Source=virtual", "--Model:DefectCodes:scratch=D-1"), TimeSpan.FromSeconds(90));

        Assert.NotEqual(0, exit);
        Assert.Contains("Model:DefectCodes:scratch: 'scratch' is not a class of model", output);
    }

    private static void AssertError(JsonNode verdict, string code, int number, string reason)
    {
        Assert.Equal(("error", code, number), ((string?)verdict["verdict"], (string?)verdict["resultCode"], (int?)verdict["resultNumber"]));
        Assert.Contains(reason, (string?)verdict["error"]);
        Assert.Null(verdict["defectScore"]);
        Assert.Empty(verdict["regions"]!.AsArray());
    }

    private static Task Send(TestSubscriber client, string topic, string payload, string replies, string correlation, uint expirySeconds = 0) =>
        client.PublishAsync(topic, payload, responseTopic: replies, correlation: Encoding.UTF8.GetBytes(correlation), expirySeconds: expirySeconds);

    private static bool OnlineAgain(IReadOnlyList<Received> received)
    {
        var states = received.OfKind("camera-status").Json().Select(s => (string?)s["state"]).ToList();
        int away = states.FindLastIndex(s => s != "online");
        return away >= 0 && states.Skip(away + 1).Contains("online");
    }
}
