using DefectInspector.Core.Explain;
using OpenCvSharp;

namespace DefectInspector.Vision.Imaging;

/// <summary>Moves <see cref="FloatMap"/>s into OpenCV, resized to a frame.</summary>
internal static class MapMats
{
    /// <summary>A new 32F Mat of <paramref name="width"/> x <paramref name="height"/>, bilinear (cv2.INTER_LINEAR).</summary>
    public static Mat ResizedTo(FloatMap map, int width, int height, string what)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Width < 1 || map.Height < 1 || map.Values is null || map.Values.Length != map.Width * map.Height)
        {
            throw new ArgumentException(
                $"{what} {map.Width}x{map.Height} with {map.Values?.Length ?? 0} values: expected a non-empty map with width x height values", nameof(map));
        }

        if (width < 1 || height < 1)
            throw new ArgumentException($"frame size {width}x{height}: expected a positive size");

        // Copied rather than wrapped, so the Mat never points into a managed array the GC may move.
        using var source = new Mat(map.Height, map.Width, MatType.CV_32FC1);
        map.Values.CopyTo(source.AsSpan<float>());
        var resized = new Mat();
        Cv2.Resize(source, resized, new Size(width, height), 0, 0, InterpolationFlags.Linear);
        return resized;
    }
}
