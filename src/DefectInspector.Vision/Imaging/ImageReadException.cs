namespace DefectInspector.Vision.Imaging;

/// <summary>
/// An image file could not be turned into pixels. The message names the file and what was expected, so
/// that a batch run can report it and go on with the other inputs.
/// </summary>
public sealed class ImageReadException : Exception
{
    public ImageReadException(string path, string problem, string expected, Exception? innerException = null)
        : base($"image '{path}': {problem}; expected {expected}", innerException)
    {
        Path = path;
    }

    /// <summary>The file the error is about.</summary>
    public string Path { get; }
}
