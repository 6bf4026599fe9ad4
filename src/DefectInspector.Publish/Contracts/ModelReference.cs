namespace DefectInspector.Publish.Contracts;

/// <summary>Which model decided: the bundle's name and version and the SHA-256 of its file.</summary>
public sealed record ModelReference(string Name, string Version, string Sha256);
