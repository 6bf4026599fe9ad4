using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Tests;

internal static class TestModels
{
    /// <summary>A randomly initialised model in eval mode whose BN statistics are not the identity.</summary>
    public static GapResNet Random(Architecture architecture, int classes, int seed)
    {
        manual_seed(seed);
        var model = new GapResNet(architecture, classes);
        using (no_grad())
        {
            foreach (var (name, buffer) in model.named_buffers())
            {
                if (name.EndsWith("running_mean", StringComparison.Ordinal)) buffer.copy_(randn_like(buffer) * 0.1);
                if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.copy_(rand_like(buffer) + 0.5);
            }
        }
        model.eval();
        return model;
    }

    public static Tensor Input(int seed, int n, int size)
    {
        manual_seed(seed);
        return randn(n, 3, size, size);
    }
}
