namespace DefectInspector.Host.Publish;

/// <summary>Site, line and station as they appear in topics and messages.</summary>
internal sealed record StationIdentity(string Site, string Line, string Station);
