using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Tests;

/// <summary>Output stride 16 is the same network, dilated: exactly the stride-32 features on the even positions.</summary>
public sealed class OutputStrideTests
{
    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    public void The_dilated_last_stage_reproduces_the_strided_features_on_every_other_position(string name)
    {
        var architecture = Architecture.Parse(name);
        using var strided = TestModels.Random(architecture, 3, seed: 5);
        using var dense = new GapResNet(architecture, 3, outputStride: 16);
        dense.load_state_dict(strided.state_dict());
        dense.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = TestModels.Input(seed: 6, n: 2, size: 96);

        var coarse = strided.Features(input, 0, GapResNet.LastStage);
        var fine = dense.Features(input, 0, GapResNet.LastStage);

        Assert.Equal([2, coarse.shape[1], 3, 3], coarse.shape);
        Assert.Equal([2, coarse.shape[1], 6, 6], fine.shape);
        var even = fine[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(0, null, 2), TensorIndex.Slice(0, null, 2)];
        Assert.True(allclose(even, coarse, rtol: 1e-4, atol: 1e-4), $"max difference {(even - coarse).abs().max().item<float>()}");
        // The odd positions are features of their own, not copies of their neighbours.
        var odd = fine[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(1, null, 2), TensorIndex.Slice(1, null, 2)];
        Assert.False(allclose(odd, coarse, rtol: 1e-2, atol: 1e-2));
        Assert.Equal(16, dense.OutputStride);
    }

    [Fact]
    public void Only_strides_16_and_32_are_offered() =>
        Assert.Contains("outputStride 8: expected 16 or 32", Assert.Throws<ArgumentException>(() => new GapResNet(Architecture.ResNet18, 2, outputStride: 8)).Message);
}
