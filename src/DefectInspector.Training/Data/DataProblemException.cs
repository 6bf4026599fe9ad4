namespace DefectInspector.Training.Data;

/// <summary>A dataset that cannot be used; the message names the file (or folder) and what was expected.</summary>
public sealed class DataProblemException(string message, Exception? inner = null) : Exception(message, inner);
