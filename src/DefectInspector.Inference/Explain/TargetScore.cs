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
    private readonly long goodClass;

    // [rows]: 1 where the good class's logit is subtracted, 0 where the good class is the target (its margin is zero);
    // null for the logit.
    private readonly Tensor? goodShare;

    private TargetScore(Tensor targets, long goodClass, Tensor? goodShare, Tensor weights)
    {
        this.targets = targets;
        this.goodClass = goodClass;
        this.goodShare = goodShare;
        Weights = weights;
    }

    /// <summary>[rows, K]: d(score)/d(pooled features), e.g. w^c - w^good for the margin. CAM's channel weights.</summary>
    public Tensor Weights { get; }

    internal static TargetScore For(GapResNet model, Tensor targets, ExplainRequest request)
    {
        var w = model.ClassWeights.detach();
        var weights = w.index_select(0, targets);
        long good = request.GoodClass;
        if (request.Score != MapScore.Margin || good < 0 || good >= model.NumClasses)
            return new TargetScore(targets, good, null, weights);
        var goodShare = targets.ne(good).to(w.dtype);
        return new TargetScore(targets, good, goodShare, weights - goodShare.unsqueeze(1) * w[good].unsqueeze(0));
    }

    /// <summary>[rows]: the score of each row of <paramref name="logits"/> [rows, classes] (the rows this score was made for).</summary>
    public Tensor Of(Tensor logits)
    {
        var own = logits.gather(1, targets.unsqueeze(1)).squeeze(1);
        return goodShare is null ? own : own - goodShare * logits[.., goodClass];
    }

    /// <summary>[M]: the score of row <paramref name="row"/>'s target for M logit rows [M, classes] of inputs derived from that row.</summary>
    public Tensor Of(Tensor logits, long row)
    {
        var own = logits[.., targets[row].item<long>()];
        return goodShare is null ? own : own - goodShare[row].item<float>() * logits[.., goodClass];
    }
}
