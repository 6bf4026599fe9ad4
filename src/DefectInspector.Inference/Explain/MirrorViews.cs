using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// Test-time mirroring: the model sees each image as it is and mirrored (left-right; with 4 views also top-bottom and
/// both), and the logits and maps of the views are averaged, each map mirrored back first. Parts have no preferred
/// orientation (training flips them too), so every view is as valid as the original, and their average is steadier:
/// a blowhole that one view half misses another catches.
/// </summary>
public static class MirrorViews
{
    // The dims of [N, C, H, W] each view flips; a map [N, h, w] flips the same dims less one.
    private static readonly long[][] Flips = [[], [3], [2], [2, 3]];

    public static void Validate(int views, string field)
    {
        if (views is not (1 or 2 or 4))
            throw new ArgumentException($"{field} {views}: expected 1 (off), 2 (left-right mirror) or 4 (also top-bottom)");
    }

    /// <summary>[N, C, H, W] to [views * N, C, H, W], view-major: all originals first, then all left-right mirrors, ...</summary>
    public static Tensor Expand(Tensor input, int views) =>
        views == 1 ? input : cat(Flips.Take(views).Select(f => f.Length == 0 ? input : input.flip(f)).ToList(), 0);

    /// <summary>[views * N, ...] to [N, ...]: the mean over each image's views, for rows that do not depend on orientation.</summary>
    public static Tensor Mean(Tensor rows, int views) =>
        views == 1 ? rows : rows.view([views, rows.shape[0] / views, .. rows.shape.Skip(1)]).mean([0L]);

    /// <summary>[views * N, h, w] maps to [N, h, w]: each view's map mirrored back to the original orientation, then averaged.</summary>
    public static Tensor MergeMaps(Tensor maps, int views)
    {
        if (views == 1) return maps;
        long n = maps.shape[0] / views;
        var back = Enumerable.Range(0, views).Select(v =>
        {
            var map = maps.narrow(0, v * n, n);
            return Flips[v].Length == 0 ? map : map.flip(Flips[v].Select(d => d - 1).ToArray());
        }).ToList();
        return stack(back).mean([0L]);
    }
}
