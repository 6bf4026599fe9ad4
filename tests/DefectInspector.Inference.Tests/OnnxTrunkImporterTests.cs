using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Tests;

/// <summary>Imports ML.NET's ResNet-18 once for all tests of the class (the file is 63 MB).</summary>
public sealed class ImportedResNet18 : IDisposable
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "models", "imagenet");
    public static readonly string TrunkPath = Path.Combine(Folder, "ResNet18.onnx");
    public static readonly string PreprocessPath = Path.Combine(Folder, "ResNetPreprocess.onnx");

    public ImportedTrunk Trunk { get; } = OnnxTrunkImporter.Import(TrunkPath);

    public void Dispose() => Trunk.Dispose();
}

public sealed class OnnxTrunkImporterTests(ImportedResNet18 fixture, ITestOutputHelper output) : IClassFixture<ImportedResNet18>
{
    private const int Size = 224;
    private const int Pixels = Size * Size;

    private ImportedTrunk Trunk => fixture.Trunk;

    [Fact]
    public void Gap_features_match_onnx_runtime()
    {
        var inputs = new (string Name, float[] Data)[] { ("pseudo-random", RandomCntkInput(20240607)), ("smooth synthetic", SmoothCntkInput()) };
        using var session = new InferenceSession(ImportedResNet18.TrunkPath);
        using var model = Trunk.CreateModel(2);
        model.eval();

        var allFeatures = new List<float[]>();
        foreach (var (name, data) in inputs)
        {
            float[] expected = RunOnnx(session, Trunk.InputName, Trunk.FeaturesOutputName, data, [1, 3, Size, Size]);
            float[] actual = TorchFeatures(model, data);

            Assert.Equal(512, expected.Length);
            Assert.Equal(512, actual.Length);
            float maxDiff = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            float maxFeature = expected.Max(Math.Abs);
            int active = expected.Count(v => v > 1e-3f);
            output.WriteLine($"{name} input: max |torch - onnxruntime| = {maxDiff:E3} over 512 GAP features " +
                             $"(largest feature {maxFeature:F4}, {active}/512 above 1e-3)");

            Assert.True(maxDiff <= 1e-3f, $"{name}: max abs difference {maxDiff:E3} > 1e-3");
            // Features of a trunk that lost its weights would be zero or nearly constant; ReLU+GAP of a real one is not.
            Assert.True(maxFeature > 0.1f, $"{name}: largest feature {maxFeature} is trivially small");
            Assert.True(active > 100, $"{name}: only {active} of 512 features are active");
            allFeatures.Add(actual);
        }
        float betweenInputs = allFeatures[0].Zip(allFeatures[1], (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"max |features(input 1) - features(input 2)| = {betweenInputs:F4}");
        Assert.True(betweenInputs > 0.1f, "the two inputs gave (nearly) the same features: the trunk ignores its input");
    }

    [Fact]
    public void State_dict_has_exactly_the_trunk_keys_of_GapResNet_with_their_shapes()
    {
        // CNTK's ResNet-18 has a third BasicBlock in layer4; the graph walk must find it rather than drop it.
        Assert.Same(Architecture.ResNet18Cntk, Trunk.Architecture);
        Assert.Equal(new[] { 2, 2, 2, 3 }, Trunk.Architecture.Blocks);
        using var reference = new GapResNet(Trunk.Architecture, 2);
        var expected = reference.state_dict()
            .Where(e => !e.Key.StartsWith("fc.", StringComparison.Ordinal) && !e.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(e => e.Key, e => e.Value.shape);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), Trunk.StateDict.Keys.Order(StringComparer.Ordinal));
        // torchvision ResNet-18's 100 trunk tensors plus layer4.2's conv1, bn1, conv2, bn2.
        Assert.Equal(110, Trunk.StateDict.Count);
        foreach (var (key, shape) in expected)
            Assert.True(shape.SequenceEqual(Trunk.StateDict[key].shape), $"{key}: [{string.Join(",", Trunk.StateDict[key].shape)}] vs [{string.Join(",", shape)}]");

        Assert.Equal(new long[] { 64, 3, 7, 7 }, Trunk.StateDict["conv1.weight"].shape);
        Assert.Equal(new long[] { 128, 64, 1, 1 }, Trunk.StateDict["layer2.0.downsample.0.weight"].shape);
        Assert.Equal(new long[] { 512, 512, 3, 3 }, Trunk.StateDict["layer4.1.conv2.weight"].shape);
        Assert.Equal(new long[] { 512 }, Trunk.StateDict["layer4.2.bn2.running_var"].shape);
        Assert.DoesNotContain("layer4.2.downsample.0.weight", Trunk.StateDict.Keys);
        Assert.DoesNotContain(Trunk.StateDict.Keys, k => k.StartsWith("fc.", StringComparison.Ordinal));
        foreach (var (key, value) in Trunk.StateDict.Where(e => e.Key.EndsWith("running_var", StringComparison.Ordinal)))
            Assert.True(value.min().item<float>() > 0, $"{key} has a non-positive variance");

        output.WriteLine($"BatchNorm epsilon in file: {Trunk.BatchNormEpsilon:R}");
        output.WriteLine(Trunk.Provenance);
        Assert.Equal(64, Trunk.Sha256.Length);
        Assert.Contains(Trunk.Sha256, Trunk.Provenance);
        Assert.Contains(ImportedResNet18.TrunkPath, Trunk.Provenance);
    }

    [Fact]
    public void LoadInto_copies_the_trunk_and_leaves_fc_alone()
    {
        using var model = new GapResNet(Trunk.Architecture, 3);
        using var fcBefore = model.ClassWeights.detach().clone();
        Assert.False(Same(model.state_dict()["conv1.weight"], Trunk.StateDict["conv1.weight"]));

        Trunk.LoadInto(model);

        var state = model.state_dict();
        foreach (var (key, value) in Trunk.StateDict)
            Assert.True(Same(state[key], value), $"{key} was not loaded");
        Assert.True(Same(model.ClassWeights, fcBefore), "fc changed");
        Assert.True(fcBefore.abs().max().item<float>() > 0, "fc should be freshly initialised, not zero");

        // torchvision's ResNet-18 lacks layer4.2: loading into it would silently drop a block.
        using var resnet18 = new GapResNet(Architecture.ResNet18, 2);
        var wrongArchitecture = Assert.Throws<ArgumentException>(() => Trunk.LoadInto(resnet18));
        Assert.Contains("[2,2,2,3]", wrongArchitecture.Message);

        // The fixture's dictionary is shared; tests of one class run one at a time, and the entry is put back.
        const string key1 = "layer3.1.bn1.running_mean";
        var removed = Trunk.StateDict[key1];
        Trunk.StateDict.Remove(key1);
        try
        {
            using var fresh = new GapResNet(Trunk.Architecture, 2);
            var missing = Assert.Throws<WeightsMismatchException>(() => Trunk.LoadInto(fresh));
            Assert.Contains(key1, missing.Message);
            Assert.Contains(ImportedResNet18.TrunkPath, missing.Message);
        }
        finally
        {
            Trunk.StateDict[key1] = removed;
        }
    }

    [Fact]
    public void Garbage_missing_and_foreign_files_fail_naming_the_file()
    {
        string folder = Directory.CreateTempSubdirectory("di-onnx-").FullName;
        try
        {
            string garbage = Path.Combine(folder, "garbage.onnx");
            var bytes = new byte[4096];
            new Random(7).NextBytes(bytes);
            File.WriteAllBytes(garbage, bytes);
            var notOnnx = Assert.Throws<InvalidDataException>(() => OnnxTrunkImporter.Import(garbage, ImportedResNet18.PreprocessPath));
            output.WriteLine(notOnnx.Message);
            Assert.Contains(garbage, notOnnx.Message);
            Assert.Contains("not an ONNX model", notOnnx.Message);

            string empty = Path.Combine(folder, "empty.onnx");
            File.WriteAllBytes(empty, []);
            var emptyError = Assert.Throws<InvalidDataException>(() => OnnxTrunkImporter.Import(empty, ImportedResNet18.PreprocessPath));
            Assert.Contains(empty, emptyError.Message);

            string absent = Path.Combine(folder, "absent.onnx");
            var missing = Assert.Throws<FileNotFoundException>(() => OnnxTrunkImporter.Import(absent));
            output.WriteLine(missing.Message);
            Assert.Contains(absent, missing.Message);

            // A valid ONNX file of another graph: the preprocessing model offered as the trunk.
            var foreign = Assert.Throws<InvalidDataException>(() => OnnxTrunkImporter.Import(ImportedResNet18.PreprocessPath, ImportedResNet18.PreprocessPath));
            output.WriteLine(foreign.Message);
            Assert.Contains(ImportedResNet18.PreprocessPath, foreign.Message);
            Assert.Contains("expected", foreign.Message);

            // The trunk alone, without its preprocessing graph beside it.
            string lonely = Path.Combine(folder, "ResNet18.onnx");
            File.Copy(ImportedResNet18.TrunkPath, lonely);
            var noPreprocess = Assert.Throws<FileNotFoundException>(() => OnnxTrunkImporter.Import(lonely));
            Assert.Contains(Path.Combine(folder, OnnxTrunkImporter.PreprocessFileName), noPreprocess.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Preprocessing_reproduces_ResNetPreprocess_onnx_up_to_the_mean_image()
    {
        using var session = new InferenceSession(ImportedResNet18.PreprocessPath);
        string inputName = session.InputMetadata.Keys.Single();
        Assert.Equal(new[] { 1, 3, Size, Size }, session.InputMetadata[inputName].Dimensions);

        // Distinct channel levels, so that swapped channels would miss by ~170 grey levels.
        float[] rgb = RgbImage(red: 200, green: 110, blue: 30);
        float[] cntk = RunOnnx(session, inputName, session.OutputMetadata.Keys.Single(), rgb, [1, 3, Size, Size]);
        float[] ours = Apply(Trunk.Preprocessing, rgb);

        var p = Trunk.Preprocessing;
        output.WriteLine($"channel order {p.ChannelOrder}, mean [{string.Join(", ", p.Mean.Select(m => m.ToString("R")))}] " +
                         $"(x255: [{string.Join(", ", p.Mean.Select(m => (m * 255).ToString("F3")))}]), std [{string.Join(", ", p.Std.Select(s => s.ToString("R")))}]");
        Assert.Equal(ChannelOrder.Bgr, p.ChannelOrder);
        Assert.Equal((Size, Size), (p.Width, p.Height));
        Assert.All(p.Std, s => Assert.Equal(1f / 255f, s));

        float worstPixel = 0;
        for (int c = 0; c < 3; c++)
        {
            double cntkAverage = 0, oursAverage = 0;
            for (int i = c * Pixels; i < (c + 1) * Pixels; i++)
            {
                cntkAverage += cntk[i];
                oursAverage += ours[i];
                worstPixel = Math.Max(worstPixel, Math.Abs(cntk[i] - ours[i]));
            }
            cntkAverage /= Pixels;
            oursAverage /= Pixels;
            output.WriteLine($"network channel {c}: mean input CNTK {cntkAverage:F4}, ours {oursAverage:F4}");
            Assert.True(Math.Abs(cntkAverage - oursAverage) <= 1e-3, $"channel {c}: average input {oursAverage} vs CNTK's {cntkAverage}");
        }
        output.WriteLine($"max per-pixel |CNTK - ours| = {worstPixel:F3} grey levels (importer reports {Trunk.MeanImageMaxDeviation:F3})");
        Assert.InRange(worstPixel, Trunk.MeanImageMaxDeviation - 1e-2f, Trunk.MeanImageMaxDeviation + 1e-2f);
        Assert.InRange(Trunk.MeanImageMaxDeviation, 1f, 25f);
    }

    [Fact]
    public void Per_channel_mean_changes_the_features_little_compared_with_the_exact_CNTK_pipeline()
    {
        using var preprocess = new InferenceSession(ImportedResNet18.PreprocessPath);
        using var trunkSession = new InferenceSession(ImportedResNet18.TrunkPath);
        using var model = Trunk.CreateModel(2);
        model.eval();

        float[] rgb = RgbImage(red: 170, green: 120, blue: 90);
        float[] exactInput = RunOnnx(preprocess, preprocess.InputMetadata.Keys.Single(), preprocess.OutputMetadata.Keys.Single(), rgb, [1, 3, Size, Size]);
        float[] exact = RunOnnx(trunkSession, Trunk.InputName, Trunk.FeaturesOutputName, exactInput, [1, 3, Size, Size]);
        float[] approximate = TorchFeatures(model, Apply(Trunk.Preprocessing, rgb));
        float[] swapped = TorchFeatures(model, Apply(Trunk.Preprocessing with { ChannelOrder = ChannelOrder.Rgb }, rgb));

        double cosine = Cosine(exact, approximate), swappedCosine = Cosine(exact, swapped);
        output.WriteLine($"cosine(exact CNTK pipeline, per-channel mean) = {cosine:F5}; with R and B swapped = {swappedCosine:F5}; " +
                         $"max abs difference {exact.Zip(approximate, (a, b) => Math.Abs(a - b)).Max():F4} (largest feature {exact.Max():F4})");
        Assert.True(cosine > 0.98, $"per-channel mean moved the features too far (cosine {cosine})");
        Assert.True(cosine > swappedCosine, "the imported channel order should fit CNTK's pipeline better than the swapped one");
    }

    [Theory]
    [InlineData(7, 224)]
    [InlineData(3, 112)]
    [InlineData(3, 56)]
    [InlineData(3, 14)]
    public void Cntk_asymmetric_padding_equals_torchvision_padding_on_even_sizes(int kernel, int size)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        long p = (kernel - 1) / 2;
        var x = randn(1, 2, size, size);
        var w = randn(4, 2, kernel, kernel);
        // ONNX pads [top, left, bottom, right] = [p, p, p-1, p-1]; functional.pad takes (left, right, top, bottom).
        var cntkPadded = nn.functional.pad(x, [p, p - 1, p, p - 1]);

        var torchConv = nn.functional.conv2d(x, w, strides: [2, 2], padding: [p, p]);
        var cntkConv = nn.functional.conv2d(cntkPadded, w, strides: [2, 2]);
        Assert.Equal(torchConv.shape, cntkConv.shape);
        Assert.True(torchConv.allclose(cntkConv, rtol: 0, atol: 1e-4), $"conv {kernel}x{kernel}/2 on {size}: windows differ");

        var torchPool = nn.functional.max_pool2d(x, [3, 3], [2, 2], [1, 1]);
        var cntkPool = nn.functional.max_pool2d(nn.functional.pad(x, [1, 0, 1, 0], value: double.NegativeInfinity), [3, 3], [2, 2]);
        Assert.True(Same(torchPool, cntkPool), $"max-pool 3x3/2 on {size}: windows differ");

        // The condition matters: on an odd size torchvision fits one more window than CNTK's padding allows.
        var odd = randn(1, 2, size + 1, size + 1);
        var oddTorch = nn.functional.conv2d(odd, w, strides: [2, 2], padding: [p, p]);
        var oddCntk = nn.functional.conv2d(nn.functional.pad(odd, [p, p - 1, p, p - 1]), w, strides: [2, 2]);
        Assert.NotEqual(oddTorch.shape, oddCntk.shape);
    }

    private static float[] TorchFeatures(GapResNet model, float[] chw)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(chw, [1, 3, Size, Size]);
        using var run = model.Run(x);
        Assert.Equal(new long[] { 1, 512, 7, 7 }, run.Features.shape);
        return run.Features.mean([2L, 3L]).flatten().data<float>().ToArray();
    }

    private static float[] RunOnnx(InferenceSession session, string inputName, string outputName, float[] data, long[] shape)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [inputName], [input], [outputName]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>The spec's transform on an RGB CHW image of 0-255 values, in the network's channel order.</summary>
    private static float[] Apply(Preprocessing p, float[] rgb)
    {
        var result = new float[rgb.Length];
        for (int c = 0; c < 3; c++)
        {
            int source = p.ChannelOrder == ChannelOrder.Bgr ? 2 - c : c;
            for (int i = 0; i < Pixels; i++)
                result[c * Pixels + i] = (rgb[source * Pixels + i] / 255f - p.Mean[c]) / p.Std[c];
        }
        return result;
    }

    /// <summary>0-255 pixels minus ~120: the range CNTK's trunk sees after its mean image.</summary>
    private static float[] RandomCntkInput(int seed)
    {
        var random = new Random(seed);
        var data = new float[3 * Pixels];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() * 255f - 120f;
        return data;
    }

    private static float[] SmoothCntkInput()
    {
        var data = new float[3 * Pixels];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                    data[(c * Size + y) * Size + x] =
                        (float)(100 * Math.Sin(0.045 * x + 1.3 * c) * Math.Cos(0.03 * y - 0.7 * c) + 40 * Math.Sin(0.011 * (x + y)) + 7.5);
        return data;
    }

    /// <summary>An RGB CHW image around the given levels, with smooth structure so the network has something to see.</summary>
    private static float[] RgbImage(float red, float green, float blue)
    {
        float[] level = [red, green, blue];
        var data = new float[3 * Pixels];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < Size; y++)
                for (int x = 0; x < Size; x++)
                    data[(c * Size + y) * Size + x] =
                        Math.Clamp(level[c] + (float)(25 * Math.Sin(0.06 * x + c) + 20 * Math.Cos(0.05 * y) * ((x / 28 + y / 28) % 2 == 0 ? 1 : -1)), 0f, 255f);
        return data;
    }

    private static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
