using System.Text.Json;
using DefectInspector.Core.Imaging;
using DefectInspector.Core.Regions;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DefectInspector.Cli.Tests;

/// <summary>End to end: the real executable on images and model files the tests make.</summary>
public sealed class ExplainCliTests : IDisposable
{
    private readonly TempFolder temp = new("di-cli-");

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Explains_a_folder_with_state_dict_weights_as_json_lines_overlays_and_maps()
    {
        string images = MakeImages("parts", 3);
        string weights = SaveStateDict(Architecture.ResNet18, 2, seed: 1);
        string outDir = Path.Combine(temp.Path, "out");

        var result = CliProcess.Run("explain", images, "--weights", weights, "--arch", "resnet18", "--classes", "good,defect",
            "--method", "gradcam++", "--out", outDir, "--json", "--save-maps");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdoutLines;
        Assert.Equal(3, lines.Length);
        foreach (string line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            string image = root.GetProperty("image").GetString()!;
            Assert.StartsWith(images, image);
            Assert.Equal(["good", "defect"], root.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
            var logits = root.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(2, logits.Length);
            float pDefect = root.GetProperty("probabilities").GetProperty("defect").GetSingle();
            Assert.Equal(1 / (1 + MathF.Exp(logits[0] - logits[1])), pDefect, 4);
            Assert.Equal(pDefect, root.GetProperty("defectScore").GetSingle(), 5);
            Assert.Equal(pDefect >= 0.5f ? "defect" : "good", root.GetProperty("predictedClass").GetString());
            Assert.Equal("gradcam++", root.GetProperty("method").GetString());
            var raw = root.GetProperty("rawMap");
            Assert.Equal((7, 7), (raw.GetProperty("width").GetInt32(), raw.GetProperty("height").GetInt32()));
            Assert.Equal(49, raw.GetProperty("values").GetArrayLength());
            foreach (var region in root.GetProperty("regions").EnumerateArray())
            {
                var box = region.GetProperty("box");
                Assert.InRange(box.GetProperty("x").GetInt32() + box.GetProperty("width").GetInt32(), 1, 320);
                Assert.True(region.GetProperty("area").GetInt32() > 0);
                Assert.True(region.GetProperty("score").GetSingle() > 0);
            }

            string overlay = root.GetProperty("overlay").GetString()!;
            using var decoded = Cv2.ImRead(overlay);
            Assert.Equal((320, 240), (decoded.Width, decoded.Height));
            string map = root.GetProperty("map").GetString()!;
            Assert.EndsWith(".gradcam++.npy", map);
            Assert.Contains("'shape': (224, 224)", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(map), 10, 80));
        }
        Assert.Contains("[3/3]", result.Stderr);
    }

    [Theory]
    [InlineData("cam")]
    [InlineData("gradcam")]
    [InlineData("layercam")]
    [InlineData("scorecam")]
    public void Explains_with_a_bundle_and_every_method(string method)
    {
        string images = MakeImages("bundle-" + method, 1);
        string bundle = SaveBundle(seed: 2, new RegionSettings(ThresholdMode.Relative, 0.6f, 4, 3));

        var result = CliProcess.Run("explain", images, "--model", bundle, "--method", method, "--class", "defect", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdoutLines.Single());
        Assert.Equal(method, json.RootElement.GetProperty("method").GetString());
        Assert.Equal("defect", json.RootElement.GetProperty("targetClass").GetString());
        Assert.Equal(2 * 2, json.RootElement.GetProperty("rawMap").GetProperty("values").GetArrayLength());
        Assert.True(json.RootElement.GetProperty("regions").GetArrayLength() <= 3);
    }

    [Fact]
    public void Layer_option_takes_the_map_from_an_earlier_stage()
    {
        string images = MakeImages("layers", 1);
        string bundle = SaveBundle(seed: 3, new RegionSettings());
        var result = CliProcess.Run("explain", images, "--model", bundle, "--method", "layercam", "--layer", "layer2", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdoutLines.Single());
        Assert.Equal("layer2", json.RootElement.GetProperty("layer").GetString());
        Assert.Equal(8, json.RootElement.GetProperty("rawMap").GetProperty("width").GetInt32());
    }

    [Fact]
    public void Fused_layercam_explains_several_layers_at_input_resolution_and_serves_as_a_bundle_explainer()
    {
        string images = MakeImages("fused", 1);
        string bundle = SaveBundle(seed: 6, new RegionSettings(), new ExplainerDefaults("layercam", "layer2,layer3,layer4"));
        string outDir = Path.Combine(temp.Path, "fused-out");

        var asked = CliProcess.Run("explain", images, "--model", SaveBundle(seed: 6, new RegionSettings()), "--method", "layercam",
            "--layer", "layer2,layer3,layer4", "--out", outDir, "--json");
        var served = CliProcess.Run("explain", images, "--model", bundle, "--json");

        foreach (var result in new[] { asked, served })
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            using var json = JsonDocument.Parse(result.StdoutLines.Single());
            var root = json.RootElement;
            Assert.Equal("layercam", root.GetProperty("method").GetString());
            Assert.Equal("layer2,layer3,layer4", root.GetProperty("layer").GetString());
            var raw = root.GetProperty("rawMap");
            Assert.Equal((64, 64), (raw.GetProperty("width").GetInt32(), raw.GetProperty("height").GetInt32()));
            Assert.Contains(raw.GetProperty("values").EnumerateArray(), v => v.GetSingle() > 0);
        }
        using (var json = JsonDocument.Parse(asked.StdoutLines.Single()))
        {
            using var overlay = Cv2.ImRead(json.RootElement.GetProperty("overlay").GetString()!);
            Assert.Equal((320, 240), (overlay.Width, overlay.Height));
        }

        var refused = CliProcess.Run("explain", images, "--model", bundle, "--method", "gradcam", "--layer", "layer3,layer4");
        Assert.True(refused.ExitCode == 2, refused.ToString());
        Assert.Contains("layercam fuses", refused.Stderr);
    }

    [Fact]
    public void Guided_gradcam_draws_its_input_resolution_map_over_the_full_frame()
    {
        string images = MakeImages("guided", 1);
        string bundle = SaveBundle(seed: 7, new RegionSettings());
        string outDir = Path.Combine(temp.Path, "guided-out");

        var result = CliProcess.Run("explain", images, "--model", bundle, "--method", "guided-gradcam", "--out", outDir, "--json", "--save-maps");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StdoutLines.Single());
        var root = json.RootElement;
        Assert.Equal("guided-gradcam", root.GetProperty("method").GetString());
        var raw = root.GetProperty("rawMap");
        Assert.Equal((64, 64), (raw.GetProperty("width").GetInt32(), raw.GetProperty("height").GetInt32()));
        string overlay = root.GetProperty("overlay").GetString()!;
        Assert.EndsWith(".guided-gradcam.jpg", overlay);
        using var decoded = Cv2.ImRead(overlay);
        Assert.Equal((320, 240), (decoded.Width, decoded.Height));
        Assert.Contains("'shape': (64, 64)", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(root.GetProperty("map").GetString()!), 10, 80));
    }

    [Fact]
    public void Bad_inputs_are_named_and_the_good_ones_still_explained()
    {
        string images = MakeImages("mixed", 2);
        string corrupt = Path.Combine(images, "corrupt.png");
        File.WriteAllBytes(corrupt, [0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
        string truncated = Path.Combine(images, "truncated.jpg");
        var jpeg = File.ReadAllBytes(Path.Combine(images, "part-0.jpg"));
        File.WriteAllBytes(truncated, jpeg[..(jpeg.Length / 2)]);
        string unsupported = Path.Combine(temp.Path, "notes.txt");
        File.WriteAllText(unsupported, "not an image");
        string empty = Directory.CreateDirectory(Path.Combine(temp.Path, "empty")).FullName;
        string missing = Path.Combine(temp.Path, "missing.png");
        string weights = SaveStateDict(Architecture.ResNet18, 2, seed: 4);

        var result = CliProcess.Run("explain", images, unsupported, empty, missing, "--weights", weights, "--classes", "good,defect", "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        foreach (string named in new[] { corrupt, truncated, unsupported, empty, missing })
            Assert.Contains(named, result.Stderr);
        var explained = result.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.TryGetProperty("logits", out _)).ToList();
        Assert.Equal(2, explained.Count);
        Assert.Contains("5 of", result.Stderr);
    }

    [Theory]
    [InlineData("--method", "gradcam3", "--method")]
    [InlineData("--layer", "layer9", "--layer")]
    [InlineData("--class", "scratch", "--class")]
    [InlineData("--device", "cuda", "device 'cuda'")]
    [InlineData("--arch", "resnet101", "--arch")]
    public void Unusable_flags_stop_before_any_image_with_a_message_naming_the_flag(string flag, string value, string named)
    {
        string images = MakeImages("flags" + flag.Trim('-'), 1);
        string weights = SaveStateDict(Architecture.ResNet18, 2, seed: 5);
        var result = CliProcess.Run("explain", images, "--weights", weights, "--classes", "good,defect", flag, value);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(named, result.Stderr);
        Assert.Empty(result.StdoutLines);
    }

    [Fact]
    public void Weights_that_do_not_fit_are_refused_naming_each_tensor()
    {
        string images = MakeImages("misfit", 1);
        string weights = SaveStateDict(Architecture.ResNet34, 2, seed: 6);
        var result = CliProcess.Run("explain", images, "--weights", weights, "--arch", "resnet18", "--classes", "good,defect");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("unexpected layer1.2.conv1.weight", result.Stderr);
        Assert.Contains(weights, result.Stderr);
    }

    [MagneticTileFact]
    public void Explains_real_magnetic_tile_photos()
    {
        string root = SharedData.MagneticTile!;
        string blowholes = Path.Combine(root, "MT_Blowhole", "Imgs");
        string free = Path.Combine(root, "MT_Free", "Imgs");
        var files = Directory.GetFiles(blowholes, "*.jpg").Order().Take(2).Concat(Directory.GetFiles(free, "*.jpg").Order().Take(2)).ToArray();
        string weights = SaveStateDict(Architecture.ResNet18, 2, seed: 7);
        string outDir = Path.Combine(temp.Path, "tiles");

        var result = CliProcess.Run(["explain", .. files, "--weights", weights, "--classes", "good,defect", "--method", "cam", "--out", outDir, "--json"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(files.Length, result.StdoutLines.Length);
        foreach (var (line, file) in result.StdoutLines.Zip(files))
        {
            using var json = JsonDocument.Parse(line);
            Assert.Equal(file, json.RootElement.GetProperty("image").GetString());
            using var source = Cv2.ImRead(file);
            using var overlay = Cv2.ImRead(json.RootElement.GetProperty("overlay").GetString()!);
            Assert.Equal((source.Width, source.Height), (overlay.Width, overlay.Height));
        }
    }

    private string MakeImages(string name, int count) => TestParts.Write(temp.Path, name, count);

    private string SaveStateDict(Architecture architecture, int classes, int seed)
    {
        manual_seed(seed);
        using var model = new GapResNet(architecture, classes);
        string path = Path.Combine(temp.Path, $"{architecture.Name}-{seed}.safetensors");
        SafetensorsFile.Write(path, model.state_dict());
        return path;
    }

    private string SaveBundle(int seed, RegionSettings regions, ExplainerDefaults? explainer = null)
    {
        manual_seed(seed);
        using var model = new GapResNet(Architecture.ResNet18, 2);
        string path = Path.Combine(temp.Path, $"bundle-{seed}-{explainer?.Method ?? "cam"}{ModelBundle.Extension}");
        ModelBundle.Save(path, model, new BundleMetadata
        {
            Name = "test-bundle",
            Architecture = "resnet18",
            Classes = ["good", "defect"],
            GoodClass = "good",
            Preprocessing = Preprocessing.ImageNet(64, 64),
            Regions = regions,
            Explainer = explainer ?? new ExplainerDefaults(),
        });
        return path;
    }
}
