using TorchSharp;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Explain;

/// <summary>
/// Score-CAM (Wang et al. 2020): each channel, upsampled to the input (bilinear, align-corners) and min-max
/// normalised, masks the input; the masked input's target score (logit or margin) scores the channel; weights =
/// softmax of scores.
/// </summary>
public sealed class ScoreCam : CamMethod
{
    private const double MaskEps = 1e-8;

    public override string Name => "scorecam";

    protected override Tensor Weigh(CamContext context)
    {
        var activations = context.Activations;
        long n = activations.shape[0];
        long channels = activations.shape[1];
        long height = context.Input.shape[2];
        long width = context.Input.shape[3];
        var weights = new Tensor[n];

        for (long i = 0; i < n; i++)
        {
            using var imageScope = NewDisposeScope();
            var a = activations[i];
            var image = context.Input[i].unsqueeze(0);
            // Align-corners upsampling is a convex combination that hits every feature pixel exactly, so a
            // channel's min and max are those of its feature map: constant channels are known without upsampling.
            var min = a.amin([1L, 2L]);
            var range = a.amax([1L, 2L]) - min;
            var scores = empty(channels, device: a.device);

            var constant = (range == 0).nonzero().flatten();
            if (constant.shape[0] > 0)
            {
                // A constant channel normalises to an all-zero mask: one forward of a black input scores them all.
                float zeroScore = context.Score.Of(context.Model.call(zeros_like(image)), i)[0].item<float>();
                scores.index_fill_(0, constant, zeroScore);
            }

            var varying = (range != 0).nonzero().flatten();
            for (long start = 0; start < varying.shape[0]; start += context.BatchSize)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                using var chunkScope = NewDisposeScope();
                var idx = varying.narrow(0, start, Math.Min(context.BatchSize, varying.shape[0] - start));
                var maps = a.index_select(0, idx).unsqueeze(1);
                var upsampled = nn.functional.interpolate(maps, [height, width], mode: InterpolationMode.Bilinear, align_corners: true);
                var masks = (upsampled - min.index_select(0, idx).view(-1, 1, 1, 1)) / (range.index_select(0, idx).view(-1, 1, 1, 1) + MaskEps);
                var logits = context.Model.call(image * masks);
                scores.index_copy_(0, idx, context.Score.Of(logits, i));
            }
            weights[i] = nn.functional.softmax(scores, 0).MoveToOuterDisposeScope();
        }
        return stack(weights).unsqueeze(-1).unsqueeze(-1);
    }
}
