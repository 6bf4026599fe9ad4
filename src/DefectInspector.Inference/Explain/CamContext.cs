using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// What a method may look at when it weighs channels: the model, the batch, the target layer's activations
/// A [N, K, h, w], the score being explained (target classes [N] and its head weights), and (only for methods that
/// ask) d(score)/dA with the same shape as A. With mirrored views N counts every view of every image.
/// </summary>
public sealed class CamContext
{
    private readonly Tensor? gradients;

    internal CamContext(GapResNet model, Tensor input, Tensor activations, Tensor? gradients, TargetScore score, int stage, int batchSize, CancellationToken cancellation)
    {
        Model = model;
        Input = input;
        Activations = activations;
        this.gradients = gradients;
        Score = score;
        Stage = stage;
        BatchSize = batchSize;
        Cancellation = cancellation;
    }

    public GapResNet Model { get; }

    public Tensor Input { get; }

    public Tensor Activations { get; }

    public Tensor Gradients => gradients ?? throw new InvalidOperationException("this method did not ask for gradients (NeedsGradients is false)");

    public TargetScore Score { get; }

    public int Stage { get; }

    /// <summary>How many perturbed inputs a perturbation method may push through the model at once.</summary>
    public int BatchSize { get; }

    public CancellationToken Cancellation { get; }
}
