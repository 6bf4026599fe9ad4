using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using DefectInspector.Host.Tests.Infrastructure;
using OpenCvSharp;

namespace DefectInspector.Host.Tests;

/// <summary>
/// The daemon on either inference engine, end to end through a real Mosquitto: the same parts get the same verdicts,
/// regions and snapshots, and an exported graph is served without libtorch in the process.
/// </summary>
[LongRunning(40)]
public sealed class EngineTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private const int Parts = 8;

    [Fact]
    public async Task The_onnx_and_torch_engines_give_the_same_verdicts_regions_and_snapshots_on_the_same_parts()
    {
        var torch = await InspectAsync("torch", fixture.DemoModelPath);
        var onnx = await InspectAsync("onnx", fixture.DemoModelPath);

        Assert.Equal(torch.Keys.Order(), onnx.Keys.Order());
        Assert.Contains(torch.Values, v => (string?)v.Verdict["verdict"] != "ok");
        foreach (var (part, expected) in torch)
        {
            var actual = onnx[part];
            Assert.Equal((string?)expected.Verdict["verdict"], (string?)actual.Verdict["verdict"]);
            Assert.Equal((string?)expected.Verdict["predictedClass"], (string?)actual.Verdict["predictedClass"]);
            Assert.Equal((double)expected.Verdict["defectScore"]!, (double)actual.Verdict["defectScore"]!, 4);
            // The same boxes; their heat statistics agree to float rounding.
            Assert.Equal(Boxes(expected.Verdict["regions"]!), Boxes(actual.Verdict["regions"]!));
            foreach (var (er, ar) in expected.Verdict["regions"]!.AsArray().Zip(actual.Verdict["regions"]!.AsArray()))
                Assert.Equal((double)er!["score"]!, (double)ar!["score"]!, 1e-4 * Math.Abs((double)er["score"]!));
            Assert.Equal(expected.Verdict["model"]!["sha256"]!.ToString(), actual.Verdict["model"]!["sha256"]!.ToString());
            using var a = Cv2.ImDecode(expected.Snapshot, ImreadModes.Color);
            using var b = Cv2.ImDecode(actual.Snapshot, ImreadModes.Color);
            using var diff = new Mat();
            Cv2.Absdiff(a, b, diff);
            double meanGreyLevels = Cv2.Mean(diff).Val0;
            Assert.True(meanGreyLevels < 0.5, $"{part}: snapshots differ by {meanGreyLevels:0.00} grey levels on average");
        }
    }

    [Fact]
    public async Task An_exported_graph_is_served_without_loading_libtorch()
    {
        string work = fixture.NewFolder("onnx-only");
        string onnx = Path.Combine(work, "demo.onnx");
        var (exit, output) = DaemonProcess.Run(["export", "--model", fixture.DemoModelPath, "--out", onnx]);
        Assert.True(exit == 0, output);
        Assert.Contains("view(s)", output);

        var parts = await InspectAsync("onnx", onnx, daemon =>
        {
            var maps = File.ReadAllText($"/proc/{daemon.Id}/maps");
            Assert.DoesNotContain("libtorch", maps);
            Assert.Contains("libonnxruntime", maps);
            Assert.Contains("on the onnx engine", daemon.Output);
        });
        Assert.Equal(Parts, parts.Count);
    }

    [Fact]
    public async Task Run_explain_evaluate_and_bench_give_each_part_the_same_answer()
    {
        var line = await InspectAsync("onnx", fixture.DemoModelPath);
        string work = fixture.NewFolder("one-path");
        string parts = Directory.CreateDirectory(Path.Combine(work, "parts")).FullName;
        var names = PartImages.Write(parts, Parts, seed: 11);
        // PartImages draws a defect on every other part: the labels an evaluation needs.
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            string kind = Directory.CreateDirectory(Path.Combine(work, "data", i % 2 == 1 ? "defect" : "good")).FullName;
            File.Copy(Path.Combine(parts, name), Path.Combine(kind, name));
        }

        var (explainExit, explained) = DaemonProcess.Run(["explain", parts, "--model", fixture.DemoModelPath, "--json"]);
        Assert.True(explainExit == 0, explained);
        var byName = explained.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject())
            .ToDictionary(r => Path.GetFileName((string)r["image"]!), r => r);
        string report = Path.Combine(work, "report");
        var (evaluateExit, evaluated) = DaemonProcess.Run(["evaluate", "--data", Path.Combine(work, "data"), "--model", fixture.DemoModelPath, "--report", report, "--faithfulness", "0"]);
        Assert.True(evaluateExit == 0, evaluated);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(report, "report.json")))!;
        var scored = json["worstMisses"]!.AsArray().Concat(json["worstFalseRejects"]!.AsArray())
            .ToDictionary(g => Path.GetFileName((string)g!["path"]!), g => (double)g!["score"]!);

        Assert.Equal(names.Order(), byName.Keys.Order());
        Assert.Equal(names.Order(), scored.Keys.Order());
        foreach (string name in names)
        {
            var verdict = line[name].Verdict;
            var record = byName[name];
            Assert.Equal((double)verdict["defectScore"]!, (double)record["defectScore"]!, 4);
            Assert.Equal((double)verdict["defectScore"]!, scored[name], 4);
            Assert.Equal(Boxes(verdict["regions"]!), Boxes(record["regions"]!));
        }
        Assert.Contains(line.Values, p => p.Verdict["regions"]!.AsArray().Count > 0);

        // bench serves an image of the operator's through the same step: on a part the line flagged, the same answer.
        string flagged = names.First(n => line[n].Verdict["regions"]!.AsArray().Count > 0);
        var (benchExit, benched) = DaemonProcess.Run(["bench", "--model", fixture.DemoModelPath, "--image", Path.Combine(parts, flagged), "--engine", "onnx",
            "--iterations", "1", "--warmup", "0", "--scorecam-iterations", "0", "--pipeline-seconds", "0"]);
        Assert.True(benchExit == 0, benched);
        var flaggedVerdict = line[flagged].Verdict;
        var served = Regex.Match(benched, $@"^As served on {Regex.Escape(Path.Combine(parts, flagged))}, onnx: verdict (\w+), defect score ([\d.]+), (.*)$", RegexOptions.Multiline);
        Assert.True(served.Success, benched);
        Assert.Equal((string)flaggedVerdict["verdict"]!, served.Groups[1].Value);
        Assert.Equal((double)flaggedVerdict["defectScore"]!, double.Parse(served.Groups[2].Value, CultureInfo.InvariantCulture), 3);
        Assert.Equal($"{flaggedVerdict["regions"]!.AsArray().Count} region(s)" +
            string.Concat(flaggedVerdict["regions"]!.AsArray().Select(r => $" [{r!["box"]!["x"]},{r["box"]!["y"]} {r["box"]!["width"]}x{r["box"]!["height"]}]")),
            served.Groups[3].Value.TrimEnd());
    }

    private static List<string> Boxes(JsonNode regions) =>
        regions.AsArray().Select(r => $"{r!["box"]!["x"]},{r["box"]!["y"]},{r["box"]!["width"]},{r["box"]!["height"]} area {r["area"]}").ToList();

    [Fact]
    public async Task A_gpu_device_that_cannot_start_stops_the_daemon_naming_the_missing_libraries()
    {
        string work = fixture.NewFolder("no-gpu");
        var (exit, output) = DaemonProcess.Run(fixture.RunArgs(Path.Combine(work, "state"), "--Model:Engine=onnx", "--Model:Device=cuda:0",
            "--Cameras:0:Name=cam", "--Cameras:0:Source=virtual"), TimeSpan.FromSeconds(120));
        Assert.Equal(1, exit);
        Assert.Contains("Model:Device 'cuda:0'", output);
        Assert.Contains("provider", output);
        // This machine has no NVIDIA driver: the message names it among what to install.
        Assert.Contains("libcuda.so.1", output);
    }

    private async Task<Dictionary<string, (JsonObject Verdict, byte[] Snapshot)>> InspectAsync(string engine, string model, Action<DaemonProcess>? whileRunning = null)
    {
        string work = fixture.NewFolder($"engine-{engine}");
        string folder = Directory.CreateDirectory(Path.Combine(work, "drop")).FullName;
        PartImages.Write(folder, Parts, seed: 11);
        string prefix = $"t{Guid.NewGuid():N}"[..12];
        await using var all = await TestSubscriber.ConnectAsync(fixture.Broker.Port, [$"{prefix}/#"]);
        using var daemon = DaemonProcess.Start(fixture.RunArgs(Path.Combine(work, "state"),
            $"--Mqtt:TopicPrefix={prefix}", $"--Model:Engine={engine}", $"--Model:Path={model}", "--Pipeline:SnapshotOk=true",
            "--Cameras:0:Name=drop", $"--Cameras:0:Source=folder:{folder}"));
        await all.WaitUntilAsync(r => r.OfKind("verdict").Count() >= Parts && r.OfKind("snapshot").Count() >= Parts, Patience, $"{Parts} verdicts and snapshots ({engine})");
        whileRunning?.Invoke(daemon);
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Messages.AssertAllValid(all.Received);
        var snapshots = all.Received.OfKind("snapshot").ToDictionary(s => s.Correlation!, s => s.Payload);
        return all.Received.OfKind("verdict").Json().ToDictionary(v => (string)v["frameRef"]!, v => (v, snapshots[(string)v["id"]!]));
    }
}
