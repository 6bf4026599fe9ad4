namespace DefectInspector.Training.Data;

/// <summary>How <see cref="DatasetReader.Open"/> reads a dataset.</summary>
/// <param name="Strict">An unreadable image stops the read instead of being skipped with a warning.</param>
/// <param name="GroupPattern">
/// A regular expression whose first capture group, matched against each image's file name, is the image's group
/// (e.g. <c>^(exp\d+)_</c> for capture sessions). It replaces any group the data names.
/// </param>
/// <param name="CheckImages">
/// Decode every image and mask, and compare mask and image sizes. Without it only the files' existence is checked,
/// which is fast but lets a corrupt file through to training.
/// </param>
public sealed record DatasetReadOptions(bool Strict = false, string? GroupPattern = null, bool CheckImages = true);
