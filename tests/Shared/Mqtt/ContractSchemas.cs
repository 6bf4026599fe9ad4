using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace DefectInspector.Tests.Shared;

/// <summary>
/// Validates messages against the published JSON Schemas in docs/schema (copied beside the tests). The published
/// schemas tolerate unknown members, as a consumer of a major version must; the tests use them strict by default
/// (every object closed), so a member the daemon writes but the schema does not describe is caught.
/// </summary>
public static class ContractSchemas
{
    public static EvaluationResults Evaluate(string schema, string json, bool strict = true)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "schema", $"{schema}.schema.json");
        var document = JsonNode.Parse(File.ReadAllText(path))!;
        if (strict)
            Close(document);
        var compiled = JsonSchema.FromText(document.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        using var message = JsonDocument.Parse(json);
        return compiled.Evaluate(message.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
    }

    public static string Describe(EvaluationResults result) =>
        string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    /// <summary>Fails the test with every schema error when <paramref name="json"/> does not validate (strictly).</summary>
    public static void AssertValid(string schema, string json)
    {
        var result = Evaluate(schema, json);
        if (!result.IsValid)
            throw new Xunit.Sdk.XunitException($"{schema} message does not match docs/schema/{schema}.schema.json: {Describe(result)}\n{json}");
    }

    /// <summary>
    /// Closes every object shape that does not say otherwise (a free "context" says additionalProperties: true).
    /// Conditional subschemas (if/then/else) only add constraints to the shape they sit beside, so they stay open.
    /// </summary>
    private static void Close(JsonNode? node)
    {
        if (node is not JsonObject shape) return;
        if (shape.ContainsKey("properties") && !shape.ContainsKey("additionalProperties"))
            shape["additionalProperties"] = false;
        foreach (string container in new[] { "properties", "$defs" })
            if (shape[container] is JsonObject children)
                foreach (var (_, child) in children)
                    Close(child);
        Close(shape["items"]);
        Close(shape["additionalProperties"]);
    }
}
