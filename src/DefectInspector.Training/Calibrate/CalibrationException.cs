namespace DefectInspector.Training.Calibrate;

/// <summary>A calibration goal the validation data cannot meet or cannot measure; the message says which and why.</summary>
public sealed class CalibrationException(string message) : Exception(message);
