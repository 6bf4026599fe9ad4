namespace DefectInspector.Vision.Imaging;

/// <summary>
/// An image file could not be turned into pixels. The message names the file and what was expected, so
/// that a batch run can report it and go on with the other inputs.
/// </summary>
public sealed class ImageReadException : Exception
{
    public ImageReadException()
    {
    }

    public ImageReadException(string message)
        : base(message)
    {
    }

    public ImageReadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ImageReadException(string path, string problem, string expected)
        : base($"image '{path}': {problem}; expected {expected}")
    {
        Path = path;
    }

    public ImageReadException(string path, string problem, string expected, Exception innerException)
        : base($"image '{path}': {problem}; expected {expected}", innerException)
    {
        Path = path;
    }

    /// <summary>The file the error is about, when known.</summary>
    public string? Path { get; }
}
