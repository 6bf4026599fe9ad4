using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// The score a map explains, per row: the target class's logit, less the good class's where the request asks for the
/// <see cref="MapScore.Margin"/>. A GAP head makes it linear in the pooled features, with <see cref="Weights"/> as its
/// coefficients.
/// </summary>
public sealed class TargetScore
{
    private readonly Tensor targets;
    private readonly Tensor goodShare;
    private readonly long goodClass;

    private TargetScore(Tensor targets, Tensor goodShare, long goodClass, Tensor weights)
    {
        this.targets = targets;
        this.goodShare = goodShare;
        this.goodClass = goodClass;
        Weights = weights;
    }

    /// <summary>[rows, K]: d(score)/d(pooled features), e.g. w^c - w^good for the margin. CAM's channel weights.</summary>
    public Tensor Weights { get; }

    internal static TargetScore For(GapResNet model, Tensor targets, ExplainRequest request)
    {
        var w = model.ClassWeights.detach();
        var weights = w.index_select(0, targets);
        bool margin = request.Score == MapScore.Margin && request.GoodClass >= 0 && request.GoodClass < model.NumClasses;
        long good = margin ? request.GoodClass : 0;
        // 1 where the good class is subtracted; never when the good class is the target (its margin is zero).
        var goodShare = margin ? targets.ne(good).to(w.dtype) : zeros(targets.shape[0], dtype: w.dtype, device: w.device);
        if (margin)
            weights = weights - goodShare.unsqueeze(1) * w[good].unsqueeze(0);
        return new TargetScore(targets, goodShare, good, weights);
    }

    /// <summary>[rows]: the score of each row of <paramref name="logits"/> [rows, classes] (the rows this score was made for).</summary>
    public Tensor Of(Tensor logits) =>
        logits.gather(1, targets.unsqueeze(1)).squeeze(1) - goodShare * logits[.., goodClass];

    /// <summary>[M]: the score of row <paramref name="row"/>'s target for M logit rows [M, classes] of inputs derived from that row.</summary>
    public Tensor Of(Tensor logits, long row) =>
        logits[.., targets[row].item<long>()] - goodShare[row].item<float>() * logits[.., goodClass];
}
