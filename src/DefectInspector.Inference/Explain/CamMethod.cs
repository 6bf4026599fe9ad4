using DefectInspector.Core.Explain;
using DefectInspector.Inference.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// The shared machinery of the CAM family: run the model once (taking activations at the target layer and,
/// only when the method needs them, gradients of the target logit), combine the method's channel weights with
/// the activations into a map, and normalise it. A method only says how it weighs channels.
/// </summary>
public abstract class CamMethod
{
    /// <summary>The name used on the command line and in messages, e.g. "gradcam++".</summary>
    public abstract string Name { get; }

    /// <summary>Whether <see cref="Weigh"/> reads <see cref="CamContext.Gradients"/>.</summary>
    protected virtual bool NeedsGradients => false;

    /// <summary>
    /// At the last conv stage of a GAP head dY_c/dA^k_ij = w_k^c / (h w) everywhere, so gradients need no backward
    /// pass. Off only to check the shortcut against autograd.
    /// </summary>
    public bool UseClosedFormGradients { get; init; } = true;

    /// <summary>Batch size for methods that run the model on perturbed inputs.</summary>
    public int PerturbationBatchSize { get; init; } = 4;

    /// <summary>
    /// Channel weights, broadcastable against the activations [N, K, h, w]: [N, K, 1, 1] for one weight per channel,
    /// or [N, K, h, w] for methods that weigh each position. The map is sum_k weights * A^k.
    /// </summary>
    protected abstract Tensor Weigh(CamContext context);

    /// <summary>
    /// Explains a preprocessed batch [N, 3, H, W]. The target of image n is <paramref name="request"/>'s class, or by
    /// default the most likely defect class of a model with a good class (the defect class of a good/defect model),
    /// else the predicted class. With mirrored views the logits are the mean over each image's views, the target is
    /// chosen from that mean, and each view's map is mirrored back before the maps are averaged.
    /// </summary>
    public Explanation Explain(GapResNet model, Tensor input, ExplainRequest request, CancellationToken cancellation = default)
    {
        int stage = Layers.ToStage(request.Layer);
        MirrorViews.Validate(request.Views, "views");
        if (request.TargetClass is int c && (c < 0 || c >= model.NumClasses))
            throw new ArgumentOutOfRangeException(nameof(request), $"target class {c}: expected 0..{model.NumClasses - 1}");
        model.eval();

        using var scope = NewDisposeScope();
        var views = MirrorViews.Expand(input, request.Views);
        Tensor activations;
        using (no_grad())
            activations = model.Features(views, 0, stage);

        bool autograd = NeedsGradients && !(UseClosedFormGradients && stage == GapResNet.LastStage);
        Tensor viewLogits;
        if (autograd)
        {
            activations = activations.detach().requires_grad_(true);
            using (enable_grad())
                viewLogits = Logits(model, activations, stage);
        }
        else
        {
            using (no_grad())
                viewLogits = Logits(model, activations, stage);
        }

        var logits = MirrorViews.Mean(viewLogits.detach(), request.Views);
        float[][] logitRows = Rows(logits);
        int[] targetIndices = logitRows.Select(l => TargetClasses.Resolve(l, request.GoodClass < model.NumClasses ? request.GoodClass : -1, request.TargetClass)).ToArray();
        var targets = tensor(targetIndices.Select(t => (long)t).ToArray(), dtype: ScalarType.Int64, device: logits.device);
        var score = TargetScore.For(model, targets.repeat(request.Views), request);
        Tensor? gradients = null;
        if (autograd)
        {
            using (enable_grad())
                gradients = torch.autograd.grad([score.Of(viewLogits).sum()], [activations])[0];
            activations = activations.detach();
        }
        else if (NeedsGradients)
        {
            // At the last stage d(score)/dA^k_ij = (score weights)_k / (h w) everywhere: no backward pass needed.
            gradients = (score.Weights / (activations.shape[2] * activations.shape[3])).unsqueeze(-1).unsqueeze(-1).expand_as(activations);
        }

        Tensor raw;
        using (no_grad())
        {
            var context = new CamContext(model, views, activations, gradients, score, stage, PerturbationBatchSize, cancellation);
            var maps = (Weigh(context) * activations).sum(1);
            // Each view's map is placed in its own orientation, before it is mirrored back.
            if (stage == GapResNet.LastStage) maps = model.PlaceLastStageMaps(maps);
            raw = MirrorViews.MergeMaps(maps, request.Views);
        }
        float[][] rawRows = Rows(raw);
        int h = (int)raw.shape[1], w = (int)raw.shape[2];
        return Explanation.Of(rawRows.Select((map, i) => Explanation.Item(Name, request.Layer, targetIndices[i], new FloatMap(w, h, map), logitRows[i],
            (int)input.shape[3], (int)input.shape[2])).ToList());
    }

    /// <summary>[N, ...] to N flat float arrays on the CPU, in one block copy (the element accessor costs about 1 ms per map).</summary>
    private static float[][] Rows(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous();
        var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(cpu.bytes);
        int n = (int)t.shape[0], size = all.Length / Math.Max(n, 1);
        var rows = new float[n][];
        for (int i = 0; i < n; i++) rows[i] = all.Slice(i * size, size).ToArray();
        return rows;
    }

    private static Tensor Logits(GapResNet model, Tensor activations, int stage) =>
        model.Head(stage == GapResNet.LastStage ? activations : model.Features(activations, stage, GapResNet.LastStage));

}
