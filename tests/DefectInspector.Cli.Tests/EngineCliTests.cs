using System.Text.Json;
using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Cli.Tests;

/// <summary>End to end: export, explain on either engine from a bundle or its graph, and bench's rows for both engines.</summary>
public sealed class EngineCliTests : IDisposable
{
    private readonly TempFolder temp = new("di-engine-cli-");

    public void Dispose() => temp.Dispose();

    [Fact]
    public void An_exported_graph_explains_as_the_bundle_does_on_either_engine()
    {
        string bundle = SaveBundle(views: 2, stride: 16);
        var export = CliProcess.Run("export", "--model", bundle);
        Assert.True(export.ExitCode == 0, export.ToString());
        string onnx = Path.ChangeExtension(bundle, ".onnx");
        Assert.True(File.Exists(onnx), export.ToString());
        Assert.Contains("2 view(s), output stride 16, margin maps", export.Stdout);

        string images = MakeImages(3);
        var fromGraph = Explain("--model", onnx);
        var onnxFromBundle = Explain("--model", bundle, "--engine", "onnx");
        var torch = Explain("--model", bundle, "--engine", "torch");
        foreach (var (a, b, c) in fromGraph.Zip(onnxFromBundle, torch))
        {
            Assert.Equal(c.GetProperty("defectScore").GetSingle(), a.GetProperty("defectScore").GetSingle(), 4);
            Assert.Equal(c.GetProperty("defectScore").GetSingle(), b.GetProperty("defectScore").GetSingle(), 4);
            Assert.Equal(c.GetProperty("regions").GetArrayLength(), a.GetProperty("regions").GetArrayLength());
            var (rawA, rawC) = (Values(a), Values(c));
            float range = rawC.Max() - rawC.Min();
            Assert.True(rawA.Zip(rawC, (x, y) => Math.Abs(x - y)).Max() <= Math.Max(1e-4f * range, 1e-6f));
        }

        List<JsonElement> Explain(params string[] model)
        {
            var result = CliProcess.Run(["explain", images, "--json", .. model]);
            Assert.True(result.ExitCode == 0, result.ToString());
            return result.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        }
    }

    [Fact]
    public void What_only_torch_explains_runs_on_torch_unless_the_onnx_engine_is_asked_for()
    {
        string bundle = SaveBundle(views: 1, stride: 32);
        string images = MakeImages(1);
        var auto = CliProcess.Run("explain", images, "--model", bundle, "--method", "layercam", "--layer", "layer3", "--json");
        Assert.True(auto.ExitCode == 0, auto.ToString());
        Assert.Equal("layer3", JsonDocument.Parse(auto.StdoutLines[0]).RootElement.GetProperty("layer").GetString());

        var forced = CliProcess.Run("explain", images, "--model", bundle, "--method", "scorecam", "--engine", "onnx");
        Assert.Equal(2, forced.ExitCode);
        Assert.Contains("torch engine", forced.Stderr);
    }

    [Fact]
    public void Bench_measures_both_engines_in_one_run_and_checks_they_decide_alike()
    {
        string bundle = SaveBundle(views: 2, stride: 16);
        var result = CliProcess.Run("bench", "--model", bundle, "--iterations", "2", "--warmup", "1", "--scorecam-iterations", "0", "--pipeline-seconds", "0");
        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (string row in new[] { "| forward, batch 1 |", "| cam (layer4) |", "| onnx: forward, batch 1 |", "| onnx: cam (layer4) |",
                     "| as served (64 px, 2 view(s), stride 16, margin maps), per part |", "| onnx: as served (64 px, 2 view(s), stride 16, margin maps), per part |" })
            Assert.Contains(row, result.Stdout);
        Assert.Contains("same verdict 16/16, same number of regions 16/16", result.Stdout);
        // Score-CAM is hundreds of forward passes: left out when asked.
        Assert.DoesNotContain("| scorecam", result.Stdout);
        Assert.Contains("Score-CAM left out", result.Stdout);
    }

    private static float[] Values(JsonElement record) =>
        record.GetProperty("rawMap").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private string MakeImages(int count) => TestParts.Write(temp.Path, "parts", count, ".png");

    private string SaveBundle(int views, int stride)
    {
        manual_seed(4);
        using var model = new GapResNet(Architecture.ResNet18, 2, stride);
        string path = Path.Combine(temp.Path, $"bundle-{views}-{stride}{ModelBundle.Extension}");
        ModelBundle.Save(path, model, new BundleMetadata
        {
            Name = "engine-test",
            Architecture = "resnet18",
            Classes = ["good", "defect"],
            GoodClass = "good",
            Preprocessing = Preprocessing.ImageNet(64, 64),
            OutputStride = stride,
            Views = views,
            Explainer = new ExplainerDefaults(Score: MapScore.Margin),
        });
        return path;
    }
}
