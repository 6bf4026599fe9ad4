using OpenCvSharp;

namespace DefectInspector.Training.Train;

/// <summary>
/// What each location of the last feature grid should say, for location supervision. Every location of a good part is
/// good. On a defective part with a mask, a location whose cell holds any defect pixel is the part's defect class, the
/// ring of locations around those says nothing (their receptive fields see the defect, and a mask's edge is never
/// exact), and the locations beyond are good: a mask marks every defect on its part, so the rest is good surface. A
/// defective part without a mask says nothing anywhere.
/// </summary>
internal static class LocationTargets
{
    /// <summary>The target of a location that is left out of the loss (PyTorch's ignore index).</summary>
    public const long Ignore = -100;

    /// <summary>
    /// Targets [N * height * width], row-major per image. <paramref name="masks"/> are at the size of the frames the
    /// inputs were stretched from, which the grid covers edge to edge; <paramref name="labels"/> are class indices, 0 = good.
    /// </summary>
    public static long[] From(IReadOnlyList<Mat?> masks, IReadOnlyList<long> labels, int height, int width)
    {
        if (masks.Count != labels.Count)
            throw new ArgumentException($"{masks.Count} masks for {labels.Count} labels: expected one (or null) per image");
        int cells = height * width;
        var targets = new long[labels.Count * cells];
        using var coverage = new Mat();
        for (int i = 0; i < labels.Count; i++)
        {
            var span = targets.AsSpan(i * cells, cells);
            if (labels[i] == 0)
            {
                span.Clear();
                continue;
            }
            if (masks[i] is not { } mask)
            {
                span.Fill(Ignore);
                continue;
            }

            // Area resampling of the 0/1 mask gives each cell the share of its pixels that are defect; in floats, so
            // a cell with one defect pixel among a thousand does not round to none.
            using var unit = new Mat();
            mask.ConvertTo(unit, MatType.CV_32F, 1.0 / 255);
            Cv2.Resize(unit, coverage, new Size(width, height), 0, 0, InterpolationFlags.Area);
            var share = coverage.AsSpan<float>();
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    span[y * width + x] = share[y * width + x] > 0 ? labels[i]
                        : TouchesDefect(share, width, height, x, y) ? Ignore
                        : 0;
                }
            }
        }
        return targets;
    }

    /// <summary>Whether one of the 8 cells around (x, y) holds defect pixels.</summary>
    private static bool TouchesDefect(ReadOnlySpan<float> share, int width, int height, int x, int y)
    {
        for (int ny = Math.Max(0, y - 1); ny <= Math.Min(height - 1, y + 1); ny++)
            for (int nx = Math.Max(0, x - 1); nx <= Math.Min(width - 1, x + 1); nx++)
                if (share[ny * width + nx] > 0) return true;
        return false;
    }
}
