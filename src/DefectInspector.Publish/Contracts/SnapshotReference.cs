namespace DefectInspector.Publish.Contracts;

/// <summary>The JPEG overlay of a verdict: its topic, and the verdict id it carries as correlation data.</summary>
public sealed record SnapshotReference(string Topic, string ContentType, int Bytes);
