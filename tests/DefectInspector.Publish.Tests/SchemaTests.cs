using System.Text.Json.Nodes;
using DefectInspector.Publish.Contracts;
using Json.Schema;

namespace DefectInspector.Publish.Tests;

/// <summary>Every contract's JSON validates against its published schema, and the schemas are strict.</summary>
public sealed class SchemaTests
{
    public static TheoryData<string, string> Valid => new()
    {
        { "verdict", ToText(MessageJson.Serialize(Samples.Verdict())) },
        { "verdict", ToText(MessageJson.Serialize(Samples.Verdict() with { PartId = null, Snapshot = null, Regions = [], DefectCode = null })) },
        { "verdict", ToText(MessageJson.Serialize(Samples.ErrorVerdict())) },
        { "event", ToText(MessageJson.Serialize(Samples.Event())) },
        { "event", ToText(MessageJson.Serialize(DefectEvent.From(Samples.ErrorVerdict()))) },
        { "status", ToText(MessageJson.Serialize(Samples.Status())) },
        { "status", ToText(MessageJson.Serialize(Samples.Status() with { State = "offline", Version = null, Model = null, Cameras = null })) },
        { "status", ToText(MessageJson.Serialize(Samples.Status() with { Alarms = [Samples.Alarm()] })) },
        { "camera-status", ToText(MessageJson.Serialize(Samples.CameraStatus())) },
        { "camera-status", ToText(MessageJson.Serialize(Samples.CameraStatus() with { State = "online", Reason = null })) },
        { "stats", ToText(MessageJson.Serialize(Samples.Stats())) },
        { "trigger", ToText(MessageJson.Serialize(Samples.Trigger())) },
        { "trigger", "{\"partId\":\"P-1\"}" },
        { "trigger-reply", ToText(MessageJson.Serialize(Samples.Accepted())) },
        { "trigger-reply", ToText(MessageJson.Serialize(Samples.Rejected())) },
        { "config", ToText(MessageJson.Serialize(Samples.Config())) },
        { "review", ToText(MessageJson.Serialize(Samples.Review())) },
        { "review", ToText(MessageJson.Serialize(Samples.Review() with { Comment = null, PartId = null, Disposition = DefectInspector.Publish.Contracts.Dispositions.Rework, Label = "crack" })) },
    };

    /// <summary>A valid message, then one change that must make it invalid.</summary>
    public static TheoryData<string, string, string> Broken => new()
    {
        { "verdict", "verdict", "\"maybe\"" },
        { "verdict", "id", "\"not-a-uuid\"" },
        { "verdict", "id", null! },
        { "verdict", "capturedAt", "\"yesterday\"" },
        { "verdict", "capturedAt", "\"2026-11-27T22:31:13+01:00\"" },
        { "verdict", "defectScore", "1.5" },
        { "verdict", "width", "\"640\"" },
        { "verdict", "colour", "\"red\"" },
        { "verdict", "schema", "2" },
        { "verdict", "schema", "\"1.0\"" },
        { "verdict", "schema", "\"2\"" },
        { "verdict", "resultNumber", "12" },
        { "verdict", "defectScore", null! },
        { "verdict", "configHash", "\"abc\"" },
        { "verdict", "context", "[1,2]" },
        { "verdict", "model", """{"name":"m","version":"1","sha256":"XYZ"}""" },
        { "verdict", "regions", """[{"box":{"x":0,"y":0,"width":1,"height":1},"score":1}]""" },
        { "event", "verdict", "\"ok\"" },
        { "event", "extra", "1" },
        { "status", "state", "\"sleeping\"" },
        { "status", "site", null! },
        { "status", "cameras", """{"top":"asleep"}""" },
        { "status", "alarms", "[]" },
        { "status", "alarms", """[{"code":"Disk Full","message":"m","since":"2026-11-27T21:31:13Z"}]""" },
        { "status", "alarms", """[{"code":"storage-full","since":"2026-11-27T21:31:13Z"}]""" },
        { "camera-status", "state", "\"broken\"" },
        { "stats", "cameras", """{"top":{"framesCaptured":-1}}""" },
        { "stats", "uptimeSeconds", "\"long\"" },
        { "trigger", "partId", "\"\"" },
        { "trigger", "partId", null! },
        { "trigger", "partID", "\"typo\"" },
        { "trigger", "context", "\"lot 7\"" },
        { "trigger", "commandId", "\"\"" },
        { "trigger-reply", "verdictId", null! },
        { "trigger-reply", "resultCode", "\"camera-offline\"" },
        { "trigger-reply", "result", "\"maybe\"" },
        { "config", "configHash", null! },
        { "config", "cameras", "[]" },
        { "config", "model", """{"name":"m"}""" },
        { "review", "disposition", "\"maybe\"" },
        { "review", "verdictId", null! },
        { "review", "operator", "\"\"" },
        { "review", "reviewedAt", "\"2026-11-27T22:31:13+01:00\"" },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Serialized_contracts_validate(string schema, string json)
    {
        var result = Evaluate(schema, json);

        Assert.True(result.IsValid, $"{schema}: {Describe(result)}\n{json}");
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void A_broken_message_fails_validation(string schema, string member, string? value)
    {
        var sample = JsonNode.Parse(Valid.First(row => (string)row[0] == schema)[1].ToString()!)!.AsObject();
        if (value is null)
        {
            sample.Remove(member);
        }
        else
        {
            sample[member] = JsonNode.Parse(value);
        }

        var result = Evaluate(schema, sample.ToJsonString());

        Assert.False(result.IsValid, $"{schema} accepted {member} = {value ?? "(missing)"}");
    }

    [Fact]
    public void Every_schema_is_draft_2020_12_with_an_id()
    {
        foreach (string file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "schema"), "*.schema.json"))
        {
            var document = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.Equal("https://json-schema.org/draft/2020-12/schema", (string?)document["$schema"]);
            Assert.EndsWith(Path.GetFileName(file), (string?)document["$id"]);
        }

        Assert.Equal(9, Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "schema"), "*.schema.json").Length);
    }

    [Fact]
    public void The_examples_in_the_mqtt_doc_validate_and_cover_every_schema()
    {
        string doc = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "schema", "mqtt.md"));
        var examples = System.Text.RegularExpressions.Regex.Matches(doc, "```json ([a-z-]+)\n(.*?)\n```", System.Text.RegularExpressions.RegexOptions.Singleline);

        foreach (System.Text.RegularExpressions.Match example in examples)
        {
            var result = Evaluate(example.Groups[1].Value, example.Groups[2].Value);
            Assert.True(result.IsValid, $"docs/mqtt.md example for {example.Groups[1].Value}: {Describe(result)}");
        }

        var schemas = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "schema"), "*.schema.json").Select(f => Path.GetFileName(f)[..^".schema.json".Length]);
        Assert.Equal(schemas.Order(), examples.Select(m => m.Groups[1].Value).Distinct().Order());
    }

    /// <summary>
    /// The published schemas are tolerant: a consumer of 2.0 reads a 2.1 message with a member it does not know. The
    /// strict form the other tests use rejects it, so a member the daemon writes without describing it is caught.
    /// </summary>
    [Theory]
    [InlineData("verdict")]
    [InlineData("event")]
    [InlineData("status")]
    [InlineData("trigger-reply")]
    [InlineData("config")]
    public void A_later_minor_version_with_a_new_member_validates_against_the_published_schema_but_not_the_strict_one(string schema)
    {
        var sample = JsonNode.Parse(Valid.First(row => (string)row[0] == schema)[1].ToString()!)!.AsObject();
        sample["schema"] = "2.7";
        sample["addedIn27"] = JsonNode.Parse("""{"anything":[1,2]}""");

        Assert.True(ContractSchemas.Evaluate(schema, sample.ToJsonString(), strict: false).IsValid);
        Assert.False(Evaluate(schema, sample.ToJsonString()).IsValid);
        Assert.True(SchemaVersion.IsReadable("2.7"));
        Assert.False(SchemaVersion.IsReadable("3.0"));
    }

    private static EvaluationResults Evaluate(string schema, string json) => ContractSchemas.Evaluate(schema, json);

    private static string Describe(EvaluationResults result) => ContractSchemas.Describe(result);

    private static string ToText(byte[] utf8) => System.Text.Encoding.UTF8.GetString(utf8);
}
