using System.Text.RegularExpressions;
using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>What the loaded OpenCV native library was built with, as far as sources care.</summary>
internal static partial class OpenCvBackends
{
    // VideoCapture with an absent backend just stays closed, which would read as a bad pipeline; the build
    // information is the only place that says the backend is missing altogether.
    private static readonly Lazy<bool> GStreamer = new(() => GStreamerLine().IsMatch(Cv2.GetBuildInformation()));

    public static bool HasGStreamer => GStreamer.Value;

    [GeneratedRegex(@"^\s*GStreamer:\s*YES", RegexOptions.Multiline)]
    private static partial Regex GStreamerLine();
}
