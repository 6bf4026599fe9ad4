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
    public void A_stride_16_map_is_drawn_where_the_stride_32_map_draws_the_same_content()
    {
        using var scope = NewDisposeScope();
        using var coarse = new GapResNet(Architecture.ResNet18, 2);
        using var fine = coarse.AtOutputStride(16);
        // Content at stride-16 position (2, 2) is stride-32 cell (1, 1), which a resize draws centred on input pixel
        // 32 * 1.5 = 48; drawn as it is, position (2, 2) would be centred on 16 * 2.5 = 40.
        var impulse = zeros(1, 6, 6);
        impulse[0, 2, 2] = tensor(1f);

        var placed = fine.PlaceLastStageMaps(impulse);

        Assert.Equal([1, 6, 6], placed.shape);
        Assert.Equal(1f, placed.sum().item<float>(), 5);
        static double DrawnCentre(Tensor profile) => profile.contiguous().data<float>().ToArray().Select((v, k) => v * 16 * (k + 0.5)).Sum();
        Assert.Equal(48, DrawnCentre(placed[0].sum(1L)), 4); // rows
        Assert.Equal(48, DrawnCentre(placed[0].sum(0L)), 4); // columns
        Assert.Equal(40, DrawnCentre(impulse[0].sum(1L)), 4); // unplaced
        // Edges replicate rather than lose heat; stride 32 is drawn as it is.
        var corner = zeros(1, 6, 6);
        corner[0, 0, 0] = tensor(1f);
        Assert.Equal(1f, fine.PlaceLastStageMaps(corner)[0, 0, 0].item<float>(), 6);
        Assert.True(allclose(coarse.PlaceLastStageMaps(impulse), impulse, rtol: 0, atol: 0));
    }

    [Fact]
    public void Only_strides_16_and_32_are_offered() =>
        Assert.Contains("outputStride 8: expected 16 or 32", Assert.Throws<ArgumentException>(() => new GapResNet(Architecture.ResNet18, 2, outputStride: 8)).Message);
}
