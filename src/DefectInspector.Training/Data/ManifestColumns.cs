using CsvHelper;

namespace DefectInspector.Training.Data;

/// <summary>Where the manifest's columns are; the optional ones are null when absent.</summary>
internal sealed record ManifestColumns(int Image, int Label, int? Mask, int? Class, int? Split, int? Group)
{
    private const string Expected = "required columns image, label; optional mask, class, split, group";

    public static ManifestColumns Find(CsvReader reader, string manifest)
    {
        var headers = reader.Headers;
        if (headers.Count == 0)
            throw new DataProblemException($"manifest '{manifest}' is empty; expected a header row with {Expected}");

        int Required(string name) => Optional(name) ?? throw new DataProblemException(
            $"manifest '{manifest}' has no '{name}' column; expected {Expected}; found {string.Join(", ", headers.Select(h => $"'{h}'"))}");
        int? Optional(string name) => reader.TryGetFieldIndex(name, out var index) ? index : null;

        return new ManifestColumns(Required("image"), Required("label"), Optional("mask"), Optional("class"), Optional("split"), Optional("group"));
    }
}
