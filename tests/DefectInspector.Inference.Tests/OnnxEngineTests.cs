using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Export;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Tests;

/// <summary>
/// The exported graph in ONNX Runtime against the model in TorchSharp, on the same inputs: logits, every served method's
/// raw map and the target it explains agree to 1e-4 of the map's range (1e-6 at least), at every stride, view count and map score.
/// </summary>
public sealed class OnnxEngineTests
{
    public static TheoryData<string, int, int, int, string> Servings()
    {
        var data = new TheoryData<string, int, int, int, string>();
        foreach (int views in new[] { 1, 2, 4 })
            foreach (int stride in new[] { 16, 32 })
                foreach (string score in new[] { "logit", "margin" })
                    data.Add("resnet18", 2, views, stride, score);
        data.Add("resnet18", 4, 4, 16, "margin");
        data.Add("resnet18", 3, 1, 32, "logit");
        data.Add("resnet34", 2, 2, 16, "margin");
        data.Add("resnet50", 3, 4, 32, "margin");
        data.Add("resnet50", 2, 1, 16, "logit");
        return data;
    }

    [Theory]
    [MemberData(nameof(Servings))]
    public void Onnx_runtime_serves_the_torch_models_logits_and_maps(string arch, int classes, int views, int stride, string score)
    {
        using var torchEngine = new TorchEngine(Served(TestModels.Random(Architecture.Parse(arch), classes, seed: 3), views, stride, score, size: 64));
        using var onnx = OnnxEngine.FromBytes(OnnxExport.ToBytes(torchEngine.Model.Network, torchEngine.Metadata, torchEngine.Sha256), new OnnxSessionSettings(), "test");
        AssertSameExplanations(torchEngine, onnx, Images(seed: 5, n: 3, size: 64));
    }

    [Fact]
    public void The_imagenet_trunk_exports_exactly_at_both_strides()
    {
        using var trunk = InspectionModel.FromImageNetTrunk(OnnxTrunkImporter.BundledTrunkPath, ["good", "defect"], CPU);
        foreach (int stride in new[] { 32, 16 })
        {
            var metadata = trunk.Metadata with { OutputStride = stride, Views = 4, Explainer = new ExplainerDefaults(Score: MapScore.Margin) };
            using var torchEngine = new TorchEngine(InspectionModel.FromNetwork(trunk.Network.AtOutputStride(stride), metadata, CPU, trunk.Sha256));
            using var onnx = OnnxEngine.FromBytes(OnnxExport.ToBytes(torchEngine.Model.Network, metadata, trunk.Sha256), new OnnxSessionSettings(), "imagenet");
            AssertSameExplanations(torchEngine, onnx, Images(seed: 7, n: 2, size: metadata.Preprocessing.Width));
        }
    }

    [Fact]
    public void The_graph_carries_the_metadata_needed_to_serve_it_alone()
    {
        using var model = Served(TestModels.Random(Architecture.ResNet18, 2, seed: 1), views: 2, stride: 16, score: "margin", size: 64);
        string path = Path.Combine(Path.GetTempPath(), $"di-export-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExport.Write(model, path);
            using var onnx = OnnxEngine.Open(path, new OnnxSessionSettings { IntraOpThreads = 1, GraphOptimization = "basic", MemoryArena = false });
            Assert.Equal(model.Metadata.ToJson(), onnx.Metadata.ToJson());
            Assert.Equal(model.Sha256, onnx.Sha256);
            Assert.Equal("cpu", onnx.Device);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void What_the_graph_does_not_carry_is_refused_by_name()
    {
        using var model = Served(TestModels.Random(Architecture.ResNet18, 2, seed: 1), views: 4, stride: 32, score: "logit", size: 64);
        using var onnx = OnnxEngine.FromBytes(OnnxExport.ToBytes(model.Network, model.Metadata, model.Sha256), new OnnxSessionSettings(), "test");
        var request = ExplainRequest.For(model.Metadata);
        Assert.Contains("torch engine", Assert.Throws<ArgumentException>(() => onnx.CheckServes("scorecam", request)).Message);
        Assert.Contains("layer4 only", Assert.Throws<ArgumentException>(() => onnx.CheckServes("gradcam", request with { Layer = "layer3" })).Message);
        Assert.Contains("exported with 4", Assert.Throws<ArgumentException>(() => onnx.CheckServes("cam", request with { Views = 1 })).Message);
        Assert.Contains("logit maps", Assert.Throws<ArgumentException>(() => onnx.CheckServes("cam", request with { Score = MapScore.Margin })).Message);
    }

    [Fact]
    public void A_file_that_is_not_an_export_is_named()
    {
        string path = Path.Combine(Path.GetTempPath(), $"di-not-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllText(path, "not a model");
            var e = Assert.Throws<InvalidDataException>(() => OnnxEngine.Open(path, new OnnxSessionSettings()));
            Assert.Contains(path, e.Message);
            var trunk = Assert.Throws<InvalidDataException>(() => OnnxEngine.Open(OnnxTrunkImporter.BundledTrunkPath, new OnnxSessionSettings()));
            Assert.Contains("defect-inspector export", trunk.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("tensorrt:0")]
    public void A_gpu_provider_that_cannot_start_names_what_is_missing(string device)
    {
        using var model = Served(TestModels.Random(Architecture.ResNet18, 2, seed: 1), views: 1, stride: 32, score: "logit", size: 64);
        var bytes = OnnxExport.ToBytes(model.Network, model.Metadata, model.Sha256);
        // This build carries ONNX Runtime's CPU package and the machine has no CUDA: the provider cannot start.
        var e = Assert.Throws<EngineUnavailableException>(() => OnnxEngine.FromBytes(bytes, new OnnxSessionSettings { Device = device }, "test"));
        Assert.Contains($"device '{device}'", e.Message);
        foreach (string library in GpuLibraries.Missing(OnnxDevice.Parse(device, "Device").Provider))
            Assert.Contains(library, e.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("cpu:0")]
    public void An_unknown_device_is_refused_with_the_accepted_forms(string device)
    {
        var e = Assert.Throws<ArgumentException>(() => new OnnxSessionSettings { Device = device }.Validate("Model:"));
        Assert.Contains("Model:Device", e.Message);
        Assert.Contains("tensorrt:N", e.Message);
    }

    private static InspectionModel Served(GapResNet network, int views, int stride, string score, int size)
    {
        var classes = Enumerable.Range(0, network.NumClasses).Select(i => i == 0 ? "good" : $"kind{i}").ToList();
        var atStride = network.AtOutputStride(stride);
        network.Dispose();
        var metadata = new BundleMetadata
        {
            Name = "test",
            Architecture = atStride.Architecture.Name,
            Classes = classes,
            GoodClass = "good",
            Preprocessing = Preprocessing.ImageNet(size, size),
            OutputStride = stride,
            Views = views,
            Explainer = new ExplainerDefaults(Score: MapScores.Parse(score, "score")),
        };
        return InspectionModel.FromNetwork(atStride, metadata, CPU, "0123abcd");
    }

    private static List<InputImage> Images(int seed, int n, int size)
    {
        using var input = TestModels.Input(seed, n, size);
        var all = input.data<float>().ToArray();
        int plane = 3 * size * size;
        return Enumerable.Range(0, n).Select(i => new InputImage(all[(i * plane)..((i + 1) * plane)], size, size, size, size)).ToList();
    }

    private static void AssertSameExplanations(TorchEngine torchEngine, OnnxEngine onnx, List<InputImage> images)
    {
        foreach (string method in OnnxExport.MapOutputs.Keys)
        {
            var request = ExplainRequest.For(torchEngine.Metadata);
            var expected = torchEngine.Explain(images, method, request);
            var actual = onnx.Explain(images, method, request);
            for (int i = 0; i < images.Count; i++)
            {
                var (e, a) = (expected.Heatmaps[i], actual.Heatmaps[i]);
                Assert.Equal(e.TargetClass, a.TargetClass);
                Assert.Equal(e.Method, a.Method);
                Assert.Equal((e.Raw.Width, e.Raw.Height), (a.Raw.Width, a.Raw.Height));
                float range = Math.Max(e.Raw.Values.Max() - e.Raw.Values.Min(), 1e-6f);
                float mapError = e.Raw.Values.Zip(a.Raw.Values, (x, y) => Math.Abs(x - y)).Max();
                // 1e-4 of the range; near-flat maps (Grad-CAM++ of a random head spans 1e-3) meet float32's rounding of a
                // 2048-term sum first, so the bound never goes below 1e-6.
                Assert.True(mapError <= Math.Max(1e-4f * range, 1e-6f), $"{method}, image {i}: raw maps differ by {mapError} (range {range})");
                float logitError = expected.Logits[i].Zip(actual.Logits[i], (x, y) => Math.Abs(x - y)).Max();
                Assert.True(logitError <= 1e-4f * Math.Max(1f, expected.Logits[i].Max(Math.Abs)), $"{method}, image {i}: logits differ by {logitError}");
                float normError = e.Normalised.Values.Zip(a.Normalised.Values, (x, y) => Math.Abs(x - y)).Max();
                Assert.True(normError <= 1e-3f, $"{method}, image {i}: normalised maps differ by {normError}");
            }
        }
    }
}
