using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// What a method may look at when it weighs channels: the model, the batch, the target layer's activations
/// A [N, K, h, w], the target classes [N], and (only for methods that ask) dY_c/dA with the same shape as A.
/// </summary>
public sealed class CamContext
{
    private readonly Tensor? gradients;

    internal CamContext(GapResNet model, Tensor input, Tensor activations, Tensor? gradients, Tensor targets, int stage, int batchSize, CancellationToken cancellation)
    {
        Model = model;
        Input = input;
        Activations = activations;
        this.gradients = gradients;
        Targets = targets;
        Stage = stage;
        BatchSize = batchSize;
        Cancellation = cancellation;
    }

    public GapResNet Model { get; }

    public Tensor Input { get; }

    public Tensor Activations { get; }

    public Tensor Gradients => gradients ?? throw new InvalidOperationException("this method did not ask for gradients (NeedsGradients is false)");

    public Tensor Targets { get; }

    public int Stage { get; }

    /// <summary>How many perturbed inputs a perturbation method may push through the model at once.</summary>
    public int BatchSize { get; }

    public CancellationToken Cancellation { get; }
}
