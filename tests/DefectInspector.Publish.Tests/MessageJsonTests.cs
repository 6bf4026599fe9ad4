using System.Text;
using System.Text.Json.Nodes;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Publish.Tests;

public sealed class MessageJsonTests
{
    [Fact]
    public void Timestamps_are_written_in_utc_with_z_whatever_the_offset()
    {
        var json = JsonNode.Parse(MessageJson.Serialize(Samples.Verdict()))!;

        // 22:31:13.250 at +01:00 is 21:31:13.25 UTC.
        Assert.Equal("2026-11-27T21:31:13.25Z", (string?)json["capturedAt"]);
        Assert.Equal("2026-11-27T21:31:13.2885Z", (string?)json["decidedAt"]);
        Assert.Equal("2026-11-27T21:31:13Z", (string?)JsonNode.Parse(MessageJson.Serialize(Samples.Status() with { At = new DateTimeOffset(2026, 11, 27, 21, 31, 13, TimeSpan.Zero) }))!["at"]);
    }

    [Fact]
    public void Members_are_camel_case_nulls_are_omitted_and_dictionary_keys_kept()
    {
        var verdict = Samples.Verdict() with { PartId = null, Snapshot = null };
        var json = JsonNode.Parse(MessageJson.Serialize(verdict))!.AsObject();

        Assert.Equal("ng", (string?)json["verdict"]);
        Assert.Equal("2.0", (string?)json["schema"]);
        Assert.False(json.ContainsKey("partId"));
        Assert.False(json.ContainsKey("snapshot"));
        Assert.Equal(0.93, (double?)json["probabilities"]!["crack"]);
        Assert.Equal(30, (int?)json["regions"]![0]!["box"]!["width"]);
        Assert.Equal(new string('a', 64), (string?)json["model"]!["sha256"]);
    }

    [Fact]
    public void Every_contract_reads_back_equal()
    {
        var verdict = Samples.Verdict();
        var back = MessageJson.Deserialize<VerdictMessage>(MessageJson.Serialize(verdict));
        Assert.Equal(verdict.Id, back.Id);
        Assert.Equal(verdict.CapturedAt, back.CapturedAt);
        Assert.Equal(TimeSpan.Zero, back.CapturedAt.Offset);
        Assert.Equal(verdict.Regions, back.Regions);
        Assert.Equal(verdict.Probabilities, back.Probabilities);

        var stats = Samples.Stats();
        Assert.Equal(stats.Cameras["top"], MessageJson.Deserialize<StatsMessage>(MessageJson.Serialize(stats)).Cameras["top"]);
        Assert.Equal(Samples.CameraStatus() with { At = Samples.Captured.ToUniversalTime() },
            MessageJson.Deserialize<CameraStatusMessage>(MessageJson.Serialize(Samples.CameraStatus())));
        Assert.Equal("P-0001", MessageJson.Deserialize<TriggerCommand>(MessageJson.Serialize(Samples.Trigger())).PartId);
        Assert.Equal(Verdicts.Uncertain, MessageJson.Deserialize<DefectEvent>(MessageJson.Serialize(Samples.Event())).Verdict);
        Assert.Equal("0.1.0", MessageJson.Deserialize<StatusMessage>(MessageJson.Serialize(Samples.Status())).Version);
    }

    [Fact]
    public void A_trigger_reads_its_part_id_and_ignores_unknown_members()
    {
        var command = MessageJson.ParseTrigger("""{"partId":"A-17","recipe":"x"}"""u8, "t/trigger/top");

        Assert.Equal("A-17", command.PartId);
    }

    [Theory]
    [InlineData("not json", "invalid")]
    [InlineData("", "")]
    [InlineData("[1,2]", "")]
    [InlineData("{}", "partId is missing or empty")]
    [InlineData("""{"partId":""}""", "partId is missing or empty")]
    [InlineData("""{"partId":42}""", "")]
    [InlineData("null", "partId is missing or empty")]
    [InlineData("""{"partId":"P","commandId":""}""", "commandId must be 1 to 128 characters")]
    [InlineData("""{"partId":"P","context":[1]}""", "context must be a JSON object, not Array")]
    [InlineData("""{"partId":"P","context":"lot"}""", "context must be a JSON object, not String")]
    public void A_bad_trigger_payload_names_the_topic_and_the_expected_shape(string payload, string problem)
    {
        var error = Assert.Throws<MessageFormatException>(() => MessageJson.ParseTrigger(Encoding.UTF8.GetBytes(payload), "di/a/b/c/trigger/top"));

        Assert.Contains("di/a/b/c/trigger/top", error.Message);
        Assert.Contains("{\"partId\":", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Equal("di/a/b/c/trigger/top", error.Topic);
    }

    [Fact]
    public void A_version_2_trigger_reads_its_command_id_and_context_verbatim()
    {
        var command = MessageJson.ParseTrigger("""{"partId":"A-17","commandId":"c-1","context":{"lot":"L-7","qty":3.50,"tags":["a"]}}"""u8, "t");

        Assert.Equal(("A-17", "c-1"), (command.PartId, command.CommandId));
        Assert.Equal("""{"lot":"L-7","qty":3.50,"tags":["a"]}""", command.Context!.Value.GetRawText());
        Assert.Null(MessageJson.ParseTrigger("""{"partId":"A","context":null}"""u8, "t").Context);
    }

    [Fact]
    public void A_context_or_payload_too_large_is_refused()
    {
        string context = $"{{\"partId\":\"P\",\"context\":{{\"pad\":\"{new string('x', MessageJson.MaxContextBytes)}\"}}}}";
        Assert.Contains("at most 4096", Assert.Throws<MessageFormatException>(() => MessageJson.ParseTrigger(Encoding.UTF8.GetBytes(context), "t")).Message);

        string huge = $"{{\"partId\":\"P\",\"x\":\"{new string('x', MessageJson.MaxTriggerBytes)}\"}}";
        Assert.Contains($"at most {MessageJson.MaxTriggerBytes}", Assert.Throws<MessageFormatException>(() => MessageJson.ParseTrigger(Encoding.UTF8.GetBytes(huge), "t")).Message);
    }

    [Fact]
    public void A_part_id_longer_than_the_schema_allows_is_refused()
    {
        string payload = $"{{\"partId\":\"{new string('x', MessageJson.MaxPartIdLength + 1)}\"}}";

        var error = Assert.Throws<MessageFormatException>(() => MessageJson.ParseTrigger(Encoding.UTF8.GetBytes(payload), "t"));
        Assert.Contains("257 characters", error.Message);
    }

    [Fact]
    public void Outgoing_messages_carry_topic_content_type_retain_and_correlation()
    {
        var topics = Samples.Topics();
        var verdict = Samples.Verdict();

        var message = OutgoingMessages.Verdict(topics, verdict);
        Assert.Equal("defect-inspector/plant-a/line-3/st1/verdict/top", message.Topic);
        Assert.Equal("application/json", message.ContentType);
        Assert.False(message.Retain);
        Assert.Equal(verdict.Id, message.CorrelationId);

        var snapshot = OutgoingMessages.Snapshot(topics, "top", verdict.Id, new byte[] { 0xFF, 0xD8 });
        Assert.Equal(("image/jpeg", verdict.Id, true), (snapshot.ContentType, snapshot.CorrelationId, snapshot.Retain));
        Assert.True(OutgoingMessages.Status(topics, Samples.Status()).Retain);
        Assert.True(OutgoingMessages.CameraStatus(topics, Samples.CameraStatus()).Retain);
        Assert.Equal("defect-inspector/plant-a/line-3/st1/camera/side/status", OutgoingMessages.CameraStatus(topics, Samples.CameraStatus()).Topic);
        Assert.True(OutgoingMessages.Stats(topics, Samples.Stats()).Retain);
        Assert.Equal("defect-inspector/plant-a/line-3/st1/event/top", OutgoingMessages.Event(topics, Samples.Event()).Topic);
    }

    [Theory]
    [InlineData("plant-a", "line-3", "st1", "defect-inspector-plant-a-line-3-st1")]
    [InlineData("Plant A", "line/3", "st#1+", "defect-inspector-Plant-A-line-3-st-1-")]
    public void Client_ids_are_derived_from_the_station_and_sanitized(string site, string line, string station, string expected)
    {
        Assert.Equal(expected, MqttIdentity.ClientId(new MqttOptions(), site, line, station));
        Assert.Equal("mine", MqttIdentity.ClientId(new MqttOptions { ClientId = " mine " }, site, line, station));
    }

    [Fact]
    public void Long_client_ids_are_cut_but_stay_unique()
    {
        string a = MqttIdentity.DeriveClientId("site", new string('l', 80), "station-a");
        string b = MqttIdentity.DeriveClientId("site", new string('l', 80), "station-b");

        Assert.Equal(MqttIdentity.MaxClientIdLength, a.Length);
        Assert.NotEqual(a, b);
    }
}
