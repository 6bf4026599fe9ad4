using DefectInspector.Core.Explain;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// One batch's maps as tensors, before they leave the device: <see cref="Raw"/> [N, h, w] in score units (views merged),
/// with what a composed explainer needs to add its own factor: the expanded <see cref="Views"/> [views * N, 3, H, W] and
/// the <see cref="Score"/> of their rows.
/// </summary>
internal sealed record CamMaps(Tensor Raw, Tensor Views, TargetScore Score, int[] Targets, float[][] Logits)
{
    /// <summary><paramref name="raw"/> [N, h, w] (these maps or a product of them) as the batch's explanation.</summary>
    public Explanation ToExplanation(string method, string layer, Tensor raw, Tensor input)
    {
        float[][] rows = Rows(raw);
        int h = (int)raw.shape[1], w = (int)raw.shape[2];
        return Explanation.Of(rows.Select((map, i) => Explanation.Item(method, layer, Targets[i], new FloatMap(w, h, map), Logits[i],
            (int)input.shape[3], (int)input.shape[2])).ToList());
    }

    /// <summary>[N, ...] to N flat float arrays on the CPU, in one block copy (the element accessor costs about 1 ms per map).</summary>
    public static float[][] Rows(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous();
        var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(cpu.bytes);
        int n = (int)t.shape[0], size = all.Length / Math.Max(n, 1);
        var rows = new float[n][];
        for (int i = 0; i < n; i++) rows[i] = all.Slice(i * size, size).ToArray();
        return rows;
    }
}
