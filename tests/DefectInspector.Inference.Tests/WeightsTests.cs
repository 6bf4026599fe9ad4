using System.Buffers.Binary;
using System.Text;
using DefectInspector.Core.Regions;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Tests;

public sealed class WeightsTests : IDisposable
{
    private readonly TempFolder temp = new("di-weights-");

    public void Dispose() => temp.Dispose();

    [Fact]
    public void A_hand_written_safetensors_state_dict_loads_and_reproduces_the_model()
    {
        using var scope = NewDisposeScope();
        using var source = TestModels.Random(Architecture.ResNet18, 2, seed: 21);
        string path = Path.Combine(temp.Path, "model.safetensors");
        WriteSafetensorsByHand(path, source.state_dict());

        using var served = InspectionModel.FromStateDict(path, Architecture.ResNet18, ["good", "defect"], CPU);
        var x = TestModels.Input(seed: 1, n: 2, size: 64);
        using var _ = no_grad();
        Assert.True(source.call(x).allclose(served.Network.call(x), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(0, served.Metadata.GoodClassIndex);
    }

    [Fact]
    public void A_pytorch_pickled_state_dict_loads_with_a_DataParallel_prefix()
    {
        using var scope = NewDisposeScope();
        using var source = TestModels.Random(Architecture.ResNet34, 3, seed: 22);
        string path = Path.Combine(temp.Path, "model.pt");
        var prefixed = source.state_dict().ToDictionary(kv => "module." + kv.Key, kv => kv.Value);
        using (var file = File.Create(path))
            PyTorchPickler.PickleStateDict(file, prefixed);

        using var served = InspectionModel.FromStateDict(path, Architecture.ResNet34, ["ok", "scratch", "dent"], CPU);
        var x = TestModels.Input(seed: 2, n: 1, size: 64);
        using var _ = no_grad();
        Assert.True(source.call(x).allclose(served.Network.call(x), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(-1, served.Metadata.GoodClassIndex);
    }

    [Fact]
    public void Missing_extra_and_misshaped_tensors_are_each_named_with_their_expected_shape()
    {
        using var scope = NewDisposeScope();
        using var source = TestModels.Random(Architecture.ResNet18, 2, seed: 23);
        var tensors = source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        tensors.Remove("layer2.0.downsample.0.weight");
        tensors["fc.weight"] = zeros(5, 512);
        tensors["extra.thing"] = zeros(3);
        string path = Path.Combine(temp.Path, "broken.safetensors");
        SafetensorsFile.Write(path, tensors);

        var error = Assert.Throws<WeightsMismatchException>(() => InspectionModel.FromStateDict(path, Architecture.ResNet18, ["good", "defect"], CPU));
        Assert.Contains(path, error.Message);
        Assert.Contains("missing    layer2.0.downsample.0.weight: expected shape [128, 64, 1, 1]", error.Message);
        Assert.Contains("mis-shaped fc.weight: expected shape [2, 512], found [5, 512]", error.Message);
        Assert.Contains("unexpected extra.thing", error.Message);
        Assert.Equal(3, error.Problems.Count);
    }

    [Fact]
    public void Unreadable_weights_name_the_file()
    {
        string garbage = Path.Combine(temp.Path, "garbage.safetensors");
        File.WriteAllBytes(garbage, Encoding.ASCII.GetBytes("definitely not a tensor file"));
        Assert.Contains(garbage, Assert.Throws<InvalidDataException>(() => StateDict.Read(garbage)).Message);

        string pickle = Path.Combine(temp.Path, "garbage.pt");
        File.WriteAllBytes(pickle, [1, 2, 3, 4, 5]);
        Assert.Contains(pickle, Assert.Throws<InvalidDataException>(() => StateDict.Read(pickle)).Message);

        string onnx = Path.Combine(temp.Path, "model.onnx");
        File.WriteAllBytes(onnx, [1]);
        Assert.Contains(".onnx", Assert.Throws<InvalidDataException>(() => StateDict.Read(onnx)).Message);

        string missing = Path.Combine(temp.Path, "nope.pt");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => StateDict.Read(missing)).Message);
    }

    [Fact]
    public void A_bundle_round_trips_weights_and_metadata()
    {
        using var scope = NewDisposeScope();
        using var source = TestModels.Random(Architecture.ResNet18, 2, seed: 24);
        var metadata = new BundleMetadata
        {
            Name = "tiles",
            Version = "3",
            Architecture = "resnet18",
            Classes = ["good", "defect"],
            GoodClass = "good",
            Preprocessing = Core.Imaging.Preprocessing.ImageNet(320, 256),
            Decision = new Core.Decision.DecisionThresholds(0.3f, 0.05f),
            Regions = new RegionSettings(ThresholdMode.Absolute, 2.5f, 30, 4),
            Explainer = new ExplainerDefaults("gradcam++", "layer4", MapScore.Margin),
            Views = 2,
            Provenance = new Provenance { Seed = 42, DatasetFingerprint = "abc", ValidationMetrics = new Dictionary<string, double> { ["auroc"] = 0.99 } },
        };
        string path = Path.Combine(temp.Path, "tiles" + ModelBundle.Extension);
        ModelBundle.Save(path, source, metadata);

        using var served = InspectionModel.FromBundle(path, CPU);
        var m = served.Metadata;
        Assert.Equal(("tiles", "3", "good"), (m.Name, m.Version, m.GoodClass));
        Assert.Equal((320, 256), (m.Preprocessing.Width, m.Preprocessing.Height));
        Assert.Equal(metadata.Regions, m.Regions);
        Assert.Equal(metadata.Decision, m.Decision);
        Assert.Equal(metadata.Explainer, m.Explainer);
        Assert.Equal(2, m.Views);
        Assert.Equal(new ExplainRequest("layer4", null, 0, MapScore.Margin, 2), ExplainRequest.For(served.Metadata));
        Assert.Equal(0.99, m.Provenance.ValidationMetrics["auroc"]);
        Assert.Equal(64, served.Sha256.Length);
        var x = TestModels.Input(seed: 3, n: 1, size: 64);
        using var _ = no_grad();
        Assert.True(source.call(x).allclose(served.Network.call(x)));

        // A bundle is a plain safetensors state dict as well, so Python tools can read its weights.
        using var asStateDict = InspectionModel.FromStateDict(path, Architecture.ResNet18, ["good", "defect"], CPU);
    }

    [Fact]
    public void A_plain_state_dict_is_not_taken_for_a_bundle_and_bad_metadata_is_named()
    {
        using var scope = NewDisposeScope();
        using var source = TestModels.Random(Architecture.ResNet18, 2, seed: 25);
        string plain = Path.Combine(temp.Path, "plain.safetensors");
        SafetensorsFile.Write(plain, source.state_dict());
        Assert.Contains("not a DefectInspector model bundle", Assert.Throws<InvalidDataException>(() => InspectionModel.FromBundle(plain, CPU)).Message);

        string bad = Path.Combine(temp.Path, "bad.dimodel");
        SafetensorsFile.Write(bad, source.state_dict(), new Dictionary<string, string>
        {
            [ModelBundle.FormatKey] = ModelBundle.FormatValue,
            [ModelBundle.MetadataKey] = """{"schema":1,"name":"x","architecture":"resnet19","classes":["good","defect"],"preprocessing":{"width":224,"height":224,"channelOrder":"Rgb","mean":[0,0,0],"std":[1,1,1]}}""",
        });
        var error = Assert.Throws<InvalidDataException>(() => InspectionModel.FromBundle(bad, CPU));
        Assert.Contains(bad, error.Message);
        Assert.Contains("'resnet19'", error.Message);

        // A bundle from before views and map scores serves one view of the logit; an impossible view count is named.
        const string Older = """{"schema":1,"name":"x","architecture":"resnet18","classes":["good","defect"],"goodClass":"good","preprocessing":{"width":224,"height":224,"channelOrder":"Rgb","mean":[0,0,0],"std":[1,1,1]},"explainer":{"method":"cam","layer":"layer4"}}""";
        string older = Path.Combine(temp.Path, "older.dimodel");
        SafetensorsFile.Write(older, source.state_dict(), new Dictionary<string, string> { [ModelBundle.FormatKey] = ModelBundle.FormatValue, [ModelBundle.MetadataKey] = Older });
        using (var served = InspectionModel.FromBundle(older, CPU))
            Assert.Equal(new ExplainRequest("layer4", null, 0, MapScore.Logit, 1), ExplainRequest.For(served.Metadata));
        using (var overridden = InspectionModel.FromBundle(older, CPU, new ServingOverrides(Views: 4, Score: MapScore.Margin)))
            Assert.Equal(new ExplainRequest("layer4", null, 0, MapScore.Margin, 4), ExplainRequest.For(overridden.Metadata));
        SafetensorsFile.Write(bad, source.state_dict(), new Dictionary<string, string>
        {
            [ModelBundle.FormatKey] = ModelBundle.FormatValue,
            [ModelBundle.MetadataKey] = Older.Replace("\"name\"", "\"views\":3,\"name\"", StringComparison.Ordinal),
        });
        Assert.Contains("views 3", Assert.Throws<InvalidDataException>(() => InspectionModel.FromBundle(bad, CPU)).Message);
    }

    /// <summary>Writes the safetensors layout from its specification, independently of the product's writer.</summary>
    private static void WriteSafetensorsByHand(string path, IDictionary<string, Tensor> tensors)
    {
        var header = new StringBuilder("{");
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            var bytes = t.contiguous().bytes.ToArray();
            string dtype = t.dtype == ScalarType.Int64 ? "I64" : "F32";
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", t.shape)}],\"data_offsets\":[{offset},{offset + bytes.Length}]}},");
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        header.Length--;
        header.Append('}');
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        using var file = File.Create(path);
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
        file.Write(length);
        file.Write(headerBytes);
        foreach (var blob in blobs) file.Write(blob);
    }
}
