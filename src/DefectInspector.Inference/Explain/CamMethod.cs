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
    private const double NormaliseEps = 1e-7;

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
    public int PerturbationBatchSize { get; init; } = 32;

    /// <summary>
    /// Channel weights, broadcastable against the activations [N, K, h, w]: [N, K, 1, 1] for one weight per channel,
    /// or [N, K, h, w] for methods that weigh each position. The map is sum_k weights * A^k.
    /// </summary>
    protected abstract Tensor Weigh(CamContext context);

    /// <summary>
    /// Explains a preprocessed batch [N, 3, H, W]. The target of image n is <paramref name="request"/>'s class, or by
    /// default the most likely defect class of a model with a good class (the defect class of a good/defect model),
    /// else the predicted class.
    /// </summary>
    public Explanation Explain(GapResNet model, Tensor input, ExplainRequest request, CancellationToken cancellation = default)
    {
        int stage = Layers.ToStage(request.Layer);
        if (request.TargetClass is int c && (c < 0 || c >= model.NumClasses))
            throw new ArgumentOutOfRangeException(nameof(request), $"target class {c}: expected 0..{model.NumClasses - 1}");
        model.eval();

        using var scope = NewDisposeScope();
        Tensor activations;
        using (no_grad())
            activations = model.Features(input, 0, stage);

        bool closedForm = UseClosedFormGradients && stage == GapResNet.LastStage;
        Tensor logits;
        Tensor? gradients = null;
        Tensor targets;
        if (NeedsGradients && !closedForm)
        {
            activations = activations.detach().requires_grad_(true);
            using (enable_grad())
            {
                logits = Logits(model, activations, stage);
                targets = ResolveTargets(logits, model.NumClasses, request);
                var score = logits.gather(1, targets.unsqueeze(1)).sum();
                gradients = torch.autograd.grad([score], [activations])[0];
            }
            activations = activations.detach();
            logits = logits.detach();
        }
        else
        {
            using (no_grad())
                logits = Logits(model, activations, stage);
            targets = ResolveTargets(logits, model.NumClasses, request);
            if (NeedsGradients)
                gradients = ClosedFormGradients(model, targets, activations);
        }

        Tensor raw;
        using (no_grad())
        {
            var context = new CamContext(model, input, activations, gradients, targets, stage, PerturbationBatchSize, cancellation);
            raw = (Weigh(context) * activations).sum(1);
        }
        return Explanation.From(Name, request.Layer, raw, Normalise(raw, (int)input.shape[2], (int)input.shape[3]), logits, targets);
    }

    private static Tensor Logits(GapResNet model, Tensor activations, int stage) =>
        model.Head(stage == GapResNet.LastStage ? activations : model.Features(activations, stage, GapResNet.LastStage));

    private static Tensor ClosedFormGradients(GapResNet model, Tensor targets, Tensor activations)
    {
        long positions = activations.shape[2] * activations.shape[3];
        var w = model.ClassWeights.detach().index_select(0, targets) / positions;
        return w.unsqueeze(-1).unsqueeze(-1).expand_as(activations);
    }

    private static Tensor ResolveTargets(Tensor logits, int classes, ExplainRequest request)
    {
        long n = logits.shape[0];
        if (request.TargetClass is int explicitClass)
            return full(n, explicitClass, dtype: ScalarType.Int64, device: logits.device);
        if (request.GoodClass < 0 || request.GoodClass >= classes)
            return logits.argmax(1);
        // With a good class, the map to show is the evidence for a defect: the defect class of a good/defect
        // model, the most likely defect kind of a good + kinds model, whatever the prediction.
        var defectLogits = logits.index_fill(1, tensor(new long[] { request.GoodClass }, device: logits.device), double.NegativeInfinity);
        return defectLogits.argmax(1);
    }

    /// <summary>ReLU, min-max at feature resolution, bilinear to the input size (cv2 INTER_LINEAR), min-max again.</summary>
    internal static Tensor Normalise(Tensor raw, int height, int width)
    {
        using var scope = NewDisposeScope();
        var map = MinMax(raw.clamp_min(0));
        map = nn.functional.interpolate(map.unsqueeze(1), [height, width], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(1);
        return MinMax(map).MoveToOuterDisposeScope();
    }

    private static Tensor MinMax(Tensor maps)
    {
        var min = maps.amin([1L, 2L], keepdim: true);
        var max = maps.amax([1L, 2L], keepdim: true);
        return (maps - min) / (max - min + NormaliseEps);
    }
}
