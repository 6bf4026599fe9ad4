using System.Text.Json;
using Json.Schema;

namespace DefectInspector.Tests.Shared;

/// <summary>Validates messages against the published JSON Schemas in docs/schema (copied beside the tests).</summary>
public static class ContractSchemas
{
    public static EvaluationResults Evaluate(string schema, string json)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "schema", $"{schema}.schema.json");
        var compiled = JsonSchema.FromText(File.ReadAllText(path), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        using var document = JsonDocument.Parse(json);
        return compiled.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
    }

    public static string Describe(EvaluationResults result) =>
        string.Join("; ", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    /// <summary>Fails the test with every schema error when <paramref name="json"/> does not validate.</summary>
    public static void AssertValid(string schema, string json)
    {
        var result = Evaluate(schema, json);
        if (!result.IsValid)
            throw new Xunit.Sdk.XunitException($"{schema} message does not match docs/schema/{schema}.schema.json: {Describe(result)}\n{json}");
    }
}
