using System.Text.Json.Nodes;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>Reading what a daemon published: messages by kind, parsed, and checked against the contract.</summary>
internal static class Messages
{
    public static IEnumerable<Received> OfKind(this IEnumerable<Received> received, string kind, string? camera = null) =>
        received.Where(m => Kind(m.Topic) == kind && (camera is null || m.Topic.EndsWith("/" + camera, StringComparison.Ordinal)));

    public static List<JsonObject> Json(this IEnumerable<Received> received) => received.Select(m => JsonNode.Parse(m.Text)!.AsObject()).ToList();

    /// <summary>verdict, event, snapshot, trigger, status, camera-status, stats or config, from the topic.</summary>
    public static string Kind(string topic)
    {
        var levels = topic.Split('/');
        if (levels[^1] == "status") return levels.Length >= 3 && levels[^3] == "camera" ? "camera-status" : "status";
        if (levels[^1] is "stats" or "config") return levels[^1];
        return levels[^2];
    }

    /// <summary>Every JSON message validates against its schema in docs/schema.</summary>
    public static void AssertAllValid(IEnumerable<Received> received)
    {
        foreach (var m in received.Where(m => m.ContentType == "application/json"))
            ContractSchemas.AssertValid(Kind(m.Topic), m.Text);
    }
}
