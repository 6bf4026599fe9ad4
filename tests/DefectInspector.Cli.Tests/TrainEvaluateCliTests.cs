using System.Text.Json;
using OpenCvSharp;

namespace DefectInspector.Cli.Tests;

/// <summary>End to end: train a bundle on a folder of made-up parts, evaluate it, and read the report.</summary>
public sealed class TrainEvaluateCliTests : IDisposable
{
    private readonly TempFolder temp = new("di-train-cli-");

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Train_writes_a_calibrated_bundle_that_evaluate_and_explain_use()
    {
        string data = MakeImageFolder("parts", perClass: 16);
        string bundle = Path.Combine(temp.Path, "parts.dimodel");

        var train = CliProcess.Run("train", "--data", data, "--out", bundle, "--input-size", "64", "--epochs", "3", "--batch-size", "8",
            "--lr", "0.002", "--target", "f1", "--seed", "5");
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("wrote " + bundle, train.Stdout);
        Assert.True(File.Exists(bundle));
        Assert.True(File.Exists(Path.Combine(bundle + ".training", "state.json")));

        string reportDir = Path.Combine(temp.Path, "report");
        var evaluate = CliProcess.Run("evaluate", "--data", data, "--model", bundle, "--report", reportDir, "--faithfulness", "0");
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.Contains("image AUROC", evaluate.Stdout);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(reportDir, "report.json")));
        var imageLevel = report.RootElement.GetProperty("imageLevel");
        Assert.True(imageLevel.GetProperty("auroc").GetDouble() > 0.9, report.RootElement.ToString());
        Assert.Equal(32, report.RootElement.GetProperty("counts").GetProperty("images").GetInt32());
        Assert.False(report.RootElement.TryGetProperty("faithfulness", out var none) && none.ValueKind != JsonValueKind.Null, "--faithfulness 0 measured faithfulness");
        string html = File.ReadAllText(Path.Combine(reportDir, "report.html"));
        Assert.Contains("<svg", html);
        Assert.Contains("data:image/jpeg;base64,", html);

        // The same parts through a manifest that names the scratches' masks: localisation, overall and per kind.
        string manifest = Path.Combine(temp.Path, "parts.csv");
        File.WriteAllLines(manifest, new[] { "image,label,class,mask" }
            .Concat(Enumerable.Range(0, 16).Select(i => $"parts/good/good-{i:00}.png,good,,"))
            .Concat(Enumerable.Range(0, 16).Select(i => $"parts/scratch/scratch-{i:00}.png,defect,scratch,parts-masks/scratch-{i:00}.png")));
        string maskedReport = Path.Combine(temp.Path, "masked-report");
        var masked = CliProcess.Run("evaluate", "--data", manifest, "--model", bundle, "--report", maskedReport, "--faithfulness", "4");
        Assert.True(masked.ExitCode == 0, masked.ToString());
        Assert.Contains("localisation: pixel AUROC", masked.Stdout);
        Assert.Matches(@"\n  scratch: 16 images, pointing game \d\.\d{4}, region recall \d\.\d{4}, region IoU \d\.\d{4}", masked.Stdout);
        using (var maskedJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(maskedReport, "report.json"))))
        {
            var perKind = maskedJson.RootElement.GetProperty("localisation").GetProperty("perKind");
            Assert.Equal("scratch", perKind[0].GetProperty("kind").GetString());
            Assert.Equal(16, perKind[0].GetProperty("scored").GetInt32());
            var faithful = maskedJson.RootElement.GetProperty("faithfulness");
            Assert.Equal(4, faithful.GetProperty("images").GetInt32());
            foreach (string metric in new[] { "deletionAuc", "insertionAuc", "roadMostRelevantFirst", "roadLeastRelevantFirst" })
                Assert.InRange(faithful.GetProperty(metric).GetDouble(), 0, 1);
            Assert.Equal(17, faithful.GetProperty("deletion").GetArrayLength());
            Assert.Equal(9, faithful.GetProperty("roadMostRelevantFirstCurve").GetArrayLength());
        }
        Assert.Matches(@"faithfulness \(cam, 4 defective images\): deletion AUC \d\.\d{4} \(lower is better\)  insertion AUC \d\.\d{4} \(higher\)  ROAD most relevant first \d\.\d{4} \(lower\)  least relevant first \d\.\d{4} \(higher\)", masked.Stdout);
        string maskedHtml = File.ReadAllText(Path.Combine(maskedReport, "report.html"));
        Assert.Contains("<th>pointing game</th>", maskedHtml);
        Assert.Contains("Worst pointing", maskedHtml);
        Assert.Matches(@"peak \d+ px from the defect", maskedHtml);
        Assert.Contains("Faithfulness of the cam maps", maskedHtml);
        Assert.Contains("Deletion (solid), insertion (dashed)", maskedHtml);

        var explain = CliProcess.Run("explain", Path.Combine(data, "scratch"), "--model", bundle, "--json");
        Assert.True(explain.ExitCode == 0, explain.ToString());
        Assert.Equal(16, explain.StdoutLines.Length);

        // A finished run resumed only calibrates again: a fixed target lands in the bundle as it is.
        var recalibrate = CliProcess.Run("train", "--data", data, "--out", bundle, "--input-size", "64", "--epochs", "3", "--batch-size", "8",
            "--lr", "0.002", "--seed", "5", "--resume", "--target", "0.4");
        Assert.True(recalibrate.ExitCode == 0, recalibrate.ToString());
        Assert.Contains("threshold 0.4000", recalibrate.Stdout);

        // Calibrated by default at output stride 16, with 4 mirrored views and margin maps; a finished run resumed at
        // stride 32 gives the same weights a heatmap half as fine, and explain can serve them at 16 again.
        using (var header = BundleHeader(bundle))
        {
            Assert.Equal(16, header.RootElement.GetProperty("outputStride").GetInt32());
            Assert.Equal(4, header.RootElement.GetProperty("views").GetInt32());
            Assert.Equal("Margin", header.RootElement.GetProperty("explainer").GetProperty("score").GetString());
        }
        int fine = RawMapWidth(explain.StdoutLines[0]);
        var coarse = CliProcess.Run("train", "--data", data, "--out", bundle, "--input-size", "64", "--epochs", "3", "--batch-size", "8",
            "--lr", "0.002", "--seed", "5", "--resume", "--target", "f1", "--output-stride", "32", "--views", "1", "--map-score", "logit");
        Assert.True(coarse.ExitCode == 0, coarse.ToString());
        using (var header = BundleHeader(bundle))
        {
            Assert.Equal(1, header.RootElement.GetProperty("views").GetInt32());
            Assert.Equal("Logit", header.RootElement.GetProperty("explainer").GetProperty("score").GetString());
        }
        var coarseMaps = CliProcess.Run("explain", Path.Combine(data, "scratch"), "--model", bundle, "--json");
        Assert.True(coarseMaps.ExitCode == 0, coarseMaps.ToString());
        Assert.Equal(fine, 2 * RawMapWidth(coarseMaps.StdoutLines[0]));
        var back = CliProcess.Run("explain", Path.Combine(data, "scratch"), "--model", bundle, "--json", "--output-stride", "16", "--views", "4", "--map-score", "margin");
        Assert.True(back.ExitCode == 0, back.ToString());
        Assert.Equal(fine, RawMapWidth(back.StdoutLines[0]));
        var badViews = CliProcess.Run("explain", Path.Combine(data, "scratch"), "--model", bundle, "--views", "3");
        Assert.True(badViews.ExitCode == 2, badViews.ToString());
        Assert.Contains("--views 3", badViews.Stderr);
    }

    /// <summary>The bundle's metadata JSON, read from the safetensors header by hand.</summary>
    private static JsonDocument BundleHeader(string bundle)
    {
        var bytes = File.ReadAllBytes(bundle);
        long length = BitConverter.ToInt64(bytes, 0);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)length));
        return JsonDocument.Parse(header.RootElement.GetProperty("__metadata__").GetProperty("defect_inspector").GetString()!);
    }

    private static int RawMapWidth(string explainLine) => JsonDocument.Parse(explainLine).RootElement.GetProperty("rawMap").GetProperty("width").GetInt32();

    [Fact]
    public void Two_processes_with_the_same_seed_train_the_same_model()
    {
        string data = MakeImageFolder("same-seed", perClass: 8);
        var logits = new List<string>();
        foreach (string name in new[] { "first", "second" })
        {
            string bundle = Path.Combine(temp.Path, name + ".dimodel");
            var train = CliProcess.Run("train", "--data", data, "--out", bundle, "--input-size", "64", "--epochs", "2", "--batch-size", "8", "--seed", "11", "--target", "f1");
            Assert.True(train.ExitCode == 0, train.ToString());
            var explain = CliProcess.Run("explain", Path.Combine(data, "scratch"), "--model", bundle, "--json");
            Assert.True(explain.ExitCode == 0, explain.ToString());
            logits.Add(string.Join("\n", explain.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("logits").GetRawText())));
        }
        Assert.Equal(logits[0], logits[1]);
    }

    [Fact]
    public void Data_problems_stop_training_with_the_file_named()
    {
        string manifest = Path.Combine(temp.Path, "manifest.csv");
        File.WriteAllText(manifest, "image,kind\nparts/a.png,good\n");
        var result = CliProcess.Run("train", "--data", manifest, "--out", Path.Combine(temp.Path, "x.dimodel"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(manifest, result.Stderr);
        Assert.Contains("label", result.Stderr);

        string empty = Directory.CreateDirectory(Path.Combine(temp.Path, "empty")).FullName;
        Directory.CreateDirectory(Path.Combine(empty, "good"));
        var noImages = CliProcess.Run("train", "--data", empty, "--out", Path.Combine(temp.Path, "y.dimodel"));
        Assert.True(noImages.ExitCode == 2, noImages.ToString());
        Assert.Contains(empty, noImages.Stderr);
    }

    [Fact]
    public void Train_refuses_unusable_options_by_name()
    {
        string data = MakeImageFolder("few", perClass: 3);
        var result = CliProcess.Run("train", "--data", data, "--out", Path.Combine(temp.Path, "z.dimodel"), "--target", "escape=2");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("escape", result.Stderr);
        var views = CliProcess.Run("train", "--data", data, "--out", Path.Combine(temp.Path, "z.dimodel"), "--views", "3");
        Assert.True(views.ExitCode == 2, views.ToString());
        Assert.Contains("--views 3", views.Stderr);
        var score = CliProcess.Run("train", "--data", data, "--out", Path.Combine(temp.Path, "z.dimodel"), "--map-score", "gradient");
        Assert.True(score.ExitCode == 2, score.ToString());
        Assert.Contains("--map-score 'gradient'", score.Stderr);
        var maskWeight = CliProcess.Run("train", "--data", data, "--out", Path.Combine(temp.Path, "z.dimodel"), "--mask-weight", "-0.5");
        Assert.True(maskWeight.ExitCode == 2, maskWeight.ToString());
        Assert.Contains("--mask-weight -0.5", maskWeight.Stderr);
        var relative = CliProcess.Run("train", "--data", data, "--out", Path.Combine(temp.Path, "z.dimodel"), "--region-relative", "1.5");
        Assert.True(relative.ExitCode == 2, relative.ToString());
        Assert.Contains("--region-relative 1.5: expected a fraction of the peak in (0, 1]", relative.Stderr);
    }

    private string MakeImageFolder(string name, int perClass)
    {
        string root = Path.Combine(temp.Path, name);
        var random = new Random(3);
        foreach (string kind in new[] { "good", "scratch" })
        {
            string folder = Directory.CreateDirectory(Path.Combine(root, kind)).FullName;
            for (int i = 0; i < perClass; i++)
            {
                using var image = new Mat(96, 96, MatType.CV_8UC3);
                Cv2.Randn(image, new Scalar(140, 140, 140), new Scalar(12, 12, 12));
                if (kind == "scratch")
                {
                    var a = new Point(random.Next(10, 50), random.Next(10, 50));
                    Cv2.Line(image, a, new Point(a.X + 30, a.Y + 25), new Scalar(25, 25, 25), 3);
                    // Masks beside the ImageFolder, not in it (a folder there would be a class), for a manifest to name.
                    using var mask = new Mat(96, 96, MatType.CV_8UC1, Scalar.Black);
                    Cv2.Line(mask, a, new Point(a.X + 30, a.Y + 25), Scalar.White, 3);
                    Cv2.ImWrite(Path.Combine(Directory.CreateDirectory(root + "-masks").FullName, $"{kind}-{i:00}.png"), mask);
                }
                Cv2.ImWrite(Path.Combine(folder, $"{kind}-{i:00}.png"), image);
            }
        }
        return root;
    }
}
