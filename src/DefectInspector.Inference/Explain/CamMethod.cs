using DefectInspector.Core.Explain;
using DefectInspector.Inference.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// The shared machinery of the CAM family: run the model once (taking activations at the target layers and,
/// only when the method needs them, gradients of the target logit), combine the method's channel weights with
/// the activations into a map, and normalise it. A method only says how it weighs channels, and whether it fuses
/// maps of several layers (<see cref="LayerFusion"/>).
/// </summary>
public abstract class CamMethod : IExplainer
{
    /// <summary>The name used on the command line and in messages, e.g. "gradcam++".</summary>
    public abstract string Name { get; }

    /// <summary>Whether <see cref="Weigh"/> reads <see cref="CamContext.Gradients"/>.</summary>
    protected virtual bool NeedsGradients => false;

    /// <summary>Whether a request may name several layers, whose maps are then fused into one at input resolution.</summary>
    protected virtual bool FusesLayers => false;

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

    public void CheckLayer(string layer) => Stages(layer);

    /// <summary>
    /// Explains a preprocessed batch [N, 3, H, W]. The target of image n is <paramref name="request"/>'s class, or by
    /// default the most likely defect class of a model with a good class (the defect class of a good/defect model),
    /// else the predicted class. With mirrored views the logits are the mean over each image's views, the target is
    /// chosen from that mean, and each view's map is mirrored back before the maps are averaged. One layer gives a map at
    /// its feature resolution; several (LayerCAM only) give their fused map at input resolution.
    /// </summary>
    public Explanation Explain(GapResNet model, Tensor input, ExplainRequest request, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        var maps = Maps(model, input, request, cancellation);
        return maps.ToExplanation(Name, request.Layer, maps.Raw, input);
    }

    /// <summary><see cref="Explain"/>'s maps as tensors in the caller's dispose scope, for explainers that build on them.</summary>
    internal CamMaps Maps(GapResNet model, Tensor input, ExplainRequest request, CancellationToken cancellation)
    {
        var stages = Stages(request.Layer);
        MirrorViews.Validate(request.Views, "views");
        if (request.TargetClass is int c && (c < 0 || c >= model.NumClasses))
            throw new ArgumentOutOfRangeException(nameof(request), $"target class {c}: expected 0..{model.NumClasses - 1}");
        model.eval();

        var views = MirrorViews.Expand(input, request.Views);
        var activations = new Tensor[stages.Count];
        using (no_grad())
            activations[0] = model.Features(views, 0, stages[0]);

        bool closedForm = UseClosedFormGradients && stages is [GapResNet.LastStage];
        bool autograd = NeedsGradients && !closedForm;
        Tensor viewLogits;
        if (autograd)
        {
            activations[0] = activations[0].detach().requires_grad_(true);
            using (enable_grad())
                viewLogits = Forward(model, activations, stages);
        }
        else
        {
            using (no_grad())
                viewLogits = Forward(model, activations, stages);
        }

        var logits = MirrorViews.Mean(viewLogits.detach(), request.Views);
        float[][] logitRows = CamMaps.Rows(logits);
        int[] targetIndices = logitRows.Select(l => TargetClasses.Resolve(l, request.GoodClass < model.NumClasses ? request.GoodClass : -1, request.TargetClass)).ToArray();
        var targets = tensor(targetIndices.Select(t => (long)t).ToArray(), dtype: ScalarType.Int64, device: logits.device);
        var score = TargetScore.For(model, targets.repeat(request.Views), request);
        Tensor[]? gradients = null;
        if (autograd)
        {
            // One backward pass gives the gradients at every requested stage: the later stages were computed from the earlier.
            using (enable_grad())
                gradients = torch.autograd.grad([score.Of(viewLogits).sum()], activations).ToArray();
            activations = activations.Select(a => a.detach()).ToArray();
        }
        else if (NeedsGradients)
        {
            // At the last stage d(score)/dA^k_ij = (score weights)_k / (h w) everywhere: no backward pass needed.
            var last = activations[0];
            gradients = [(score.Weights / (last.shape[2] * last.shape[3])).unsqueeze(-1).unsqueeze(-1).expand_as(last)];
        }

        using (no_grad())
        {
            var raw = new Tensor[stages.Count];
            for (int i = 0; i < stages.Count; i++)
            {
                var context = new CamContext(model, views, activations[i], gradients?[i], score, stages[i], PerturbationBatchSize, cancellation);
                var maps = (Weigh(context) * activations[i]).sum(1);
                // Each view's map is placed in its own orientation, before it is mirrored back.
                if (stages[i] == GapResNet.LastStage) maps = model.PlaceLastStageMaps(maps);
                raw[i] = MirrorViews.MergeMaps(maps, request.Views);
            }
            var merged = raw.Length == 1 ? raw[0] : LayerFusion.Fuse(raw, input.shape[2], input.shape[3]);
            return new CamMaps(merged, views, score, targetIndices, logitRows);
        }
    }

    private IReadOnlyList<int> Stages(string layer)
    {
        var stages = Layers.ToStages(layer);
        if (stages.Count > 1 && !FusesLayers)
            throw new ArgumentException($"layer '{layer}': {Name} explains one layer; layercam fuses several");
        return stages;
    }

    /// <summary>Runs the model on from the first stage's <paramref name="activations"/>, filling in the later stages' on the way; returns the logits.</summary>
    private static Tensor Forward(GapResNet model, Tensor[] activations, IReadOnlyList<int> stages)
    {
        for (int i = 1; i < stages.Count; i++)
            activations[i] = model.Features(activations[i - 1], stages[i - 1], stages[i]);
        int last = stages[^1];
        return model.Head(last == GapResNet.LastStage ? activations[^1] : model.Features(activations[^1], last, GapResNet.LastStage));
    }
}
