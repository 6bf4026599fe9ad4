using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Tests;

/// <summary>Proves the native TorchSharp runtime loads on this host (after the build's libstdc++ fix).</summary>
public class TorchRuntimeTests
{
    [Fact]
    public void Libtorch_can_be_asked_about_NNPACK_so_its_per_convolution_warning_is_silenced()
    {
        using var _ = new GapResNet(Architecture.ResNet18, 2);
        // Null would mean the symbols moved in a libtorch update: the warning flood would be back unnoticed.
        Assert.NotNull(Nnpack.TurnOffWhereUnavailable());
    }

    [Fact]
    public void Forward_backward_and_save_load_round_trip()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = new GapResNet(Architecture.ResNet18, 2);
        var x = randn(2, 3, 64, 64);
        var logits = model.call(x);
        Assert.Equal(new long[] { 2, 2 }, logits.shape);

        logits.sum().backward();
        var grad = model.ClassWeights.grad;
        Assert.NotNull(grad);
        Assert.True(grad!.abs().sum().item<float>() > 0f);

        string path = Path.Combine(Path.GetTempPath(), $"di-{Guid.NewGuid():N}.bin");
        try
        {
            model.save(path);
            using var copy = new GapResNet(Architecture.ResNet18, 2);
            copy.load(path);
            model.eval();
            copy.eval();
            using var _ = no_grad();
            Assert.True(model.call(x).allclose(copy.call(x)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void State_dict_uses_torchvision_names()
    {
        using var model = new GapResNet(Architecture.ResNet50, 3);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Contains("conv1.weight", keys);
        Assert.Contains("bn1.running_var", keys);
        Assert.Contains("layer1.0.downsample.0.weight", keys);
        Assert.Contains("layer4.2.conv3.weight", keys);
        Assert.Contains("layer4.2.bn3.running_mean", keys);
        Assert.Contains("fc.bias", keys);
        Assert.Equal(new long[] { 3, 2048 }, model.state_dict()["fc.weight"].shape);
    }
}
