using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Export;
using DefectInspector.Inference.Inspect;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using DefectInspector.Training.Train;
using DefectInspector.Vision.Imaging;
using Spectre.Console;
using static TorchSharp.torch;

namespace DefectInspector.Cli.Commands;

/// <summary>
/// `defect-inspector bench`: forward latency and each explainer's cost as a ratio to the bare forward pass, on both
/// engines, the model as served (the trained default when no model is given), and the daemon pipeline on each engine,
/// all measured in one run on one machine so the ratios compare like with like.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var image = new Option<FileInfo?>("--image") { Description = "Image to explain (default: a synthetic textured part with a scratch)." };
        var iterations = new Option<int>("--iterations") { Description = "Timed passes per measurement.", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed passes first (the first passes are far slower).", DefaultValueFactory = _ => 40 };
        var scoreCamIterations = new Option<int>("--scorecam-iterations") { Description = "Timed Score-CAM passes (each is hundreds of forwards); 0 = leave Score-CAM out.", DefaultValueFactory = _ => 3 };
        var pipelineSeconds = new Option<int>("--pipeline-seconds") { Description = "Seconds each daemon pipeline run is measured (video file -> MQTT subscriber); 0 = skip.", DefaultValueFactory = _ => 20 };
        var soak = new Option<int>("--soak") { Description = "Instead of the measurements: run the daemon pipeline this many minutes, sampling memory, handles, threads and verdicts/s every 5 s; exit 1 if RSS grows more than --max-growth-percent after the warm-up." };
        var maxGrowth = new Option<double>("--max-growth-percent") { Description = "Soak: the RSS growth (percent, from the end of the warm-up to the end) still accepted.", DefaultValueFactory = _ => 5 };

        var command = new Command("bench", "Measure forward ms/frame (batch 1 and 8), each explainer's cost relative to the forward pass, and the daemon pipeline's throughput and latency.");
        source.AddTo(command);
        command.Options.Add(image);
        command.Options.Add(iterations);
        command.Options.Add(warmup);
        command.Options.Add(scoreCamIterations);
        command.Options.Add(pipelineSeconds);
        command.Options.Add(soak);
        command.Options.Add(maxGrowth);
        command.SetAction(async (parse, cancellation) =>
        {
            try
            {
                string device = parse.GetValue(source.Device)!;
                var engines = parse.GetValue(source.Engine) is { } only ? [Engines.Parse(only, "--engine")] : Engines.Names.ToList();
                // libtorch has no CUDA build here: on a GPU, --engine onnx measures ONNX Runtime alone (deploy/gpu-check.sh).
                var torchDevice = engines.Contains(Engines.Torch) ? TorchDevice.Resolve(device) : CPU;
                using var model = parse.GetValue(source.Model) is null && parse.GetValue(source.Weights) is null
                    ? ImageNetModel(torchDevice)
                    : source.LoadTorch(parse, torchDevice);
                if (parse.GetValue(soak) is var minutes and not 0)
                {
                    if (minutes < 0) throw new UsageException($"--soak {minutes}: expected minutes > 0");
                    return await SoakBench.RunAsync(model, engines[^1], minutes, parse.GetValue(maxGrowth), parse.InvocationConfiguration.Output, cancellation);
                }
                if (parse.GetValue(iterations) < 1) throw new UsageException($"--iterations {parse.GetValue(iterations)}: expected at least 1 timed pass");
                if (parse.GetValue(scoreCamIterations) < 0) throw new UsageException($"--scorecam-iterations {parse.GetValue(scoreCamIterations)}: expected 0 (leave Score-CAM out) or more");
                var settings = new Settings(parse.GetValue(iterations), parse.GetValue(warmup), parse.GetValue(scoreCamIterations), engines,
                    new OnnxSessionSettings { Device = engines.Contains(Engines.Onnx) ? device : "cpu" }, parse.GetValue(source.Model) is null);
                var output = parse.InvocationConfiguration.Output;
                var (rows, agreement, decisions) = Run(model, parse.GetValue(image)?.FullName, settings, cancellation);
                Print(rows, agreement, model, settings, output);
                foreach (string decision in decisions) output.WriteLine(decision);
                if (parse.GetValue(pipelineSeconds) is > 0 and int seconds)
                    foreach (string engine in engines)
                        PrintPipeline(engine, await RunPipelineAsync(model, engine, TimeSpan.FromSeconds(seconds), cancellation), rows, output);
                return 0;
            }
            catch (Exception e) when (e is UsageException or ArgumentException or InvalidDataException or IOException or InvalidOperationException or ImageReadException or EngineUnavailableException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <param name="TrainedDefault">Without a bundle, the ImageNet trunk is also served as `train` serves its bundles (256 px, 4 views, stride 16, margin).</param>
    internal sealed record Settings(int Iterations, int Warmup, int ScoreCamIterations, IReadOnlyList<string> Engines, OnnxSessionSettings Onnx, bool TrainedDefault);

    internal sealed record Row(string Name, double MsPerFrame, double? Ratio);

    /// <summary>One timed pass: <paramref name="Frames"/> per pass (a batch's per-frame time), warmed up with the forward passes unless it is too slow to.</summary>
    private sealed record Measurement(string Name, int Iterations, Action Pass, int Frames = 1, bool WarmUp = true);

    /// <summary>Whether both engines decide the bench's parts alike: verdicts, region counts, and the largest raw-map difference over the map's range.</summary>
    internal sealed record Agreement(int Parts, int SameVerdicts, int SameRegionCounts, double MaxMapError);

    internal static (IReadOnlyList<Row> Rows, Agreement? Agreement, IReadOnlyList<string> Decisions) Run(InspectionModel model, string? imagePath, Settings settings, CancellationToken cancellation)
    {
        var spec = model.Metadata.Preprocessing;
        using var frame = imagePath is null ? BenchFrames.Part(spec.Width * 2, spec.Height * 2, seed: 1) : ImageReader.Read(imagePath);
        var input = Preprocessor.Preprocess(frame, spec);
        bool torchRows = settings.Engines.Contains(Engines.Torch), onnxRows = settings.Engines.Contains(Engines.Onnx);
        using var scope = NewDisposeScope();
        var network = model.Network;
        network.eval();
        var one = model.ToBatch([input]);
        var eight = model.ToBatch(Enumerable.Repeat(input, 8).ToList());
        var request = ExplainRequest.For(model.Metadata, Layers.Last) with { Views = 1 };
        var oneView = model.Metadata with { Views = 1 };
        var fourViews = model.Metadata with { Views = 4 };

        // What serving costs end to end (engine, targets, normalised map, regions): the bundle as calibrated, or without
        // one the ImageNet trunk served as `train` serves what it makes.
        using var served = settings.TrainedDefault ? TrainedDefaultServing(model) : null;
        var servedModel = served ?? model;
        var servedSpec = servedModel.Metadata.Preprocessing;
        // A part of the operator's own (--image) is served as the line serves it, so bench's answer can be held against the daemon's.
        using var servedFrame = imagePath is not null ? frame.Clone() : BenchFrames.Part(servedSpec.Width * 2, servedSpec.Height * 2, seed: 1);
        var servedInput = Preprocessor.Preprocess(servedFrame, servedSpec);
        string servedName = $"as served ({servedSpec.Width} px, {servedModel.Metadata.Views} view(s), stride {servedModel.Metadata.OutputStride}, {servedModel.Metadata.Explainer.Score.ToString().ToLowerInvariant()} maps)";

        using var onnxForward = onnxRows ? OnnxEngine.FromBytes(OnnxExport.ToBytes(network, oneView, model.Sha256, maps: false), settings.Onnx, "bench") : null;
        using var onnxOne = onnxRows ? OnnxEngine.FromBytes(OnnxExport.ToBytes(network, oneView, model.Sha256), settings.Onnx, "bench") : null;
        using var onnxFour = onnxRows ? OnnxEngine.FromBytes(OnnxExport.ToBytes(network, fourViews, model.Sha256), settings.Onnx, "bench") : null;
        using var onnxServed = onnxRows ? OnnxEngine.FromBytes(OnnxExport.ToBytes(servedModel.Network, servedModel.Metadata, servedModel.Sha256), settings.Onnx, "bench") : null;
        var servedOnnx = onnxServed is null ? null : new PartInspector(onnxServed);
        // The engine borrows the model, which the usings above dispose. On a GPU the torch engine stays on the CPU as the
        // reference the onnx engine's answers are checked against (deploy/gpu-check.sh).
        bool onGpu = settings.Onnx.Device != "cpu";
        var servedTorch = torchRows || onGpu ? new PartInspector(new TorchEngine(servedModel)) : null;
        var thirtyTwo = Enumerable.Repeat(input, 32).ToList();
        var eightInputs = Enumerable.Repeat(input, 8).ToList();

        Action forwardOne = torchRows ? () => Forward(network, one) : () => onnxForward!.Forward([input]);
        // What the other output stride costs (docs/model-bundle.md, outputStride): the same weights, layer4 (un)dilated.
        using var otherStride = torchRows ? network.AtOutputStride(network.OutputStride == 32 ? 16 : 32) : null;
        otherStride?.eval();
        int n = settings.Iterations;
        var explainers = new List<Measurement>();
        if (torchRows)
        {
            explainers.AddRange(
            [
                new("forward, batch 8 (per frame)", n, () => Forward(network, eight), Frames: 8),
                new("cam (layer4)", n, () => Explain(new Cam(), network, one, request)),
                new("gradcam (layer4, closed form)", n, () => Explain(new GradCam(), network, one, request)),
                new("gradcam++ (layer4, closed form)", n, () => Explain(new GradCamPlusPlus(), network, one, request)),
                new("layercam (layer4, closed form)", n, () => Explain(new LayerCam(), network, one, request)),
                new("gradcam (layer4, autograd)", n, () => Explain(new GradCam { UseClosedFormGradients = false }, network, one, request)),
                new("gradcam (layer3, autograd)", n, () => Explain(new GradCam(), network, one, request with { Layer = "layer3" })),
                new("gradcam++ (layer3, autograd)", n, () => Explain(new GradCamPlusPlus(), network, one, request with { Layer = "layer3" })),
                new("layercam (layer3, autograd)", n, () => Explain(new LayerCam(), network, one, request with { Layer = "layer3" })),
                new("layercam (layer2,layer3,layer4 fused, autograd)", n, () => Explain(new LayerCam(), network, one, request with { Layer = "layer2,layer3,layer4" })),
                new("guided-gradcam (layer4, guided backprop)", n, () => Explain(new GuidedGradCam(), network, one, request)),
                new($"scorecam (layer4, {network.Architecture.FeatureChannels} channels)", settings.ScoreCamIterations, () => Explain(new ScoreCam(), network, one, request), WarmUp: false),
                new($"cam (layer4) at output stride {otherStride!.OutputStride}", n, () => Explain(new Cam(), otherStride, one, request)),
                new("cam (layer4), 4 mirrored views", n, () => Explain(new Cam(), network, one, request with { Views = 4 })),
                new($"{servedName}, per part", n, () => servedTorch!.Decide([servedInput])),
            ]);
        }
        if (onnxRows)
        {
            explainers.Add(new("onnx: forward, batch 1", n, () => onnxForward!.Forward([input])));
            explainers.Add(new("onnx: forward, batch 8 (per frame)", n, () => onnxForward!.Forward(eightInputs), Frames: 8));
            if (onGpu) explainers.Add(new("onnx: forward, batch 32 (per frame)", n, () => onnxForward!.Forward(thirtyTwo), Frames: 32));
            explainers.AddRange(
            [
                new("onnx: cam (layer4)", n, () => onnxOne!.Explain([input], "cam", request)),
                new("onnx: gradcam (layer4, closed form)", n, () => onnxOne!.Explain([input], "gradcam", request)),
                new("onnx: gradcam++ (layer4, closed form)", n, () => onnxOne!.Explain([input], "gradcam++", request)),
                new("onnx: layercam (layer4, closed form)", n, () => onnxOne!.Explain([input], "layercam", request)),
                new("onnx: cam (layer4), 4 mirrored views", n, () => onnxFour!.Explain([input], "cam", request with { Views = 4 })),
                new($"onnx: {servedName}, per part", n, () => servedOnnx!.Decide([servedInput])),
            ]);
        }

        // --iterations is at least 1, so only Score-CAM (hundreds of forward passes each) can be asked for none: left out.
        explainers.RemoveAll(m => m.Iterations == 0);

        var results = new List<Row>();
        var console = ProgressConsole.Create();
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(progress =>
        {
            var warm = progress.AddTask("warm-up", maxValue: settings.Warmup);
            var tasks = explainers.Select(c => progress.AddTask(c.Name, maxValue: c.Iterations)).ToList();

            // libtorch's CPU kernels (and ONNX Runtime's first runs) need dozens of passes before their timings settle.
            for (int w = 0; w < settings.Warmup; w++)
            {
                forwardOne();
                // Every fourth round also each measurement's own work, so ONNX Runtime's sessions settle too.
                if (w % 4 == 0)
                    foreach (var m in explainers.Where(m => m.WarmUp)) m.Pass();
                warm.Increment(1);
            }

            // Each pass is paired with a reference forward pass right before it, so slow drift of the machine's speed
            // cancels out of the ratio.
            var forwardTimes = new List<double>();
            var pairs = new List<(string Name, double[] Explain, double[] Forward)>();
            for (int i = 0; i < explainers.Count; i++)
            {
                var (name, count, pass, frames, _) = explainers[i];
                pass();
                var explain = new double[count];
                var forward = new double[count];
                for (int k = 0; k < count; k++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    forward[k] = Time(forwardOne, 1);
                    explain[k] = Time(pass, frames);
                    tasks[i].Increment(1);
                }
                forwardTimes.AddRange(forward);
                pairs.Add((name, explain, forward));
            }

            results.Add(new Row(torchRows ? "forward, batch 1" : "onnx: forward, batch 1", Median(forwardTimes), null));
            foreach (var (name, explain, forward) in pairs)
                if (torchRows || name != "onnx: forward, batch 1")
                    results.Add(new Row(name, Median(explain), Median(explain) / Median(forward)));
        });
        var agreement = servedTorch is not null && servedOnnx is not null ? Agree(servedTorch, servedOnnx, servedSpec) : null;
        var decisions = new List<string>();
        if (imagePath is not null)
            foreach (var (engine, inspector) in new[] { (Engines.Torch, servedTorch), (Engines.Onnx, servedOnnx) })
                if (inspector is not null)
                    decisions.Add(Describe(engine, imagePath, inspector.Decide([servedInput])[0]));
        return (results, agreement, decisions);
    }

    /// <summary>The served decision on the operator's image, in the words and precision of the verdict message.</summary>
    private static string Describe(string engine, string imagePath, PartInspection part)
    {
        string boxes = string.Concat(part.Regions.Select(r => string.Create(CultureInfo.InvariantCulture, $" [{r.Box.X},{r.Box.Y} {r.Box.Width}x{r.Box.Height}]")));
        return string.Create(CultureInfo.InvariantCulture,
            $"As served on {imagePath}, {engine}: verdict {part.Verdict.ToString().ToLowerInvariant()}, defect score {part.Prediction.DefectScore:0.0000}, {part.Regions.Count} region(s){boxes}");
    }

    /// <summary>The ImageNet trunk served as `train` serves its bundles: 256 px, 4 mirrored views, output stride 16, margin maps.</summary>
    private static InspectionModel TrainedDefaultServing(InspectionModel model)
    {
        var defaults = new TrainingOptions();
        var spec = model.Metadata.Preprocessing with { Width = defaults.InputSize, Height = defaults.InputSize };
        var metadata = model.Metadata with
        {
            Preprocessing = spec,
            Views = defaults.Views,
            OutputStride = defaults.OutputStride,
            Explainer = model.Metadata.Explainer with { Score = defaults.MapScore },
        };
        return InspectionModel.FromNetwork(model.Network.AtOutputStride(defaults.OutputStride), metadata, model.Device, model.Sha256);
    }

    /// <summary>Both engines on 16 parts of the synthetic line, half of them scratched.</summary>
    private static Agreement Agree(PartInspector torchInspector, PartInspector onnxInspector, Preprocessing spec)
    {
        int same = 0, sameRegions = 0;
        double worst = 0;
        const int parts = 16;
        for (int seed = 0; seed < parts; seed++)
        {
            using var part = BenchFrames.Part(spec.Width * 2, spec.Height * 2, seed, scratched: seed % 2 == 0);
            var input = Preprocessor.Preprocess(part, spec);
            var t = torchInspector.Decide([input])[0];
            var o = onnxInspector.Decide([input])[0];
            if (t.Verdict == o.Verdict) same++;
            if (t.Regions.Count == o.Regions.Count) sameRegions++;
            double range = Math.Max(t.Heatmap.Raw.Values.Max() - t.Heatmap.Raw.Values.Min(), 1e-6);
            worst = Math.Max(worst, t.Heatmap.Raw.Values.Zip(o.Heatmap.Raw.Values, (a, b) => (double)Math.Abs(a - b)).Max() / range);
        }
        return new Agreement(parts, same, sameRegions, worst);
    }

    /// <summary>The daemon, in this process: throughput at batch 1 and 8, then latency with the file at half the batch-1 pipeline rate.</summary>
    private static async Task<IReadOnlyList<PipelineBench.Result>> RunPipelineAsync(InspectionModel model, string engine, TimeSpan measure, CancellationToken cancellation)
    {
        string work = Directory.CreateTempSubdirectory("di-bench-").FullName;
        try
        {
            var bench = new PipelineBench(model, engine, work);
            var one = await bench.ThroughputAsync(1, measure, cancellation);
            var eight = await bench.ThroughputAsync(8, measure, cancellation);
            // Latency is the pipeline's own cost only when frames come slower than it can take them: half its capacity.
            var latency = await bench.LatencyAsync(Math.Round(one.Fps / 2, 1), measure, cancellation);
            return [one, eight, latency];
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void PrintPipeline(string engine, IReadOnlyList<PipelineBench.Result> results, IReadOnlyList<Row> rows, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        string prefix = engine == Engines.Onnx ? "onnx: " : "";
        double Ms(string name) => rows.First(r => r.Name == name).MsPerFrame;
        double forwardMs = Ms(prefix + "forward, batch 1");
        double ForwardFps(int batch) => 1000 / (batch == 1 ? forwardMs : Ms(prefix + "forward, batch 8 (per frame)"));
        double camMs = Ms(prefix + "cam (layer4)");
        output.WriteLine();
        output.WriteLine($"Daemon pipeline on the {engine} engine, in this process: video file -> capture -> inspection (CAM, regions) -> snapshot -> outbox -> MQTT -> subscriber.");
        output.WriteLine("| pipeline run | verdicts/s | x forward fps (same batch) | x cam fps | capture-to-received p50 ms | p99 ms | p99 / forward ms (batch 1) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            output.WriteLine(string.Create(inv, $"| {engine}: {r.Name} ({r.Verdicts} verdicts) | {r.Fps:0.0} | {r.Fps / ForwardFps(r.Batch):0.00} | {r.Fps * camMs / 1000:0.00} | {r.LatencyP50Ms:0} | {r.LatencyP99Ms:0} | {r.LatencyP99Ms / forwardMs:0.00} |"));
        foreach (var r in results.Where(r => r.Batch == 1))
            output.WriteLine(string.Create(inv, $"Stages, {engine}, {r.Name} (ms p50/p99; timingsMs of the verdicts, delivery = render end to subscriber): {string.Join(", ", r.Stages.Select(p => $"{p.Key} {p.Value.P50:0.0}/{p.Value.P99:0.0}"))}"));
    }

    private static double Time(Action pass, int frames)
    {
        var watch = Stopwatch.StartNew();
        pass();
        return watch.Elapsed.TotalMilliseconds / frames;
    }

    private static void Forward(GapResNet network, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        network.Run(input).Logits.cpu();
    }

    private static void Explain(IExplainer method, GapResNet network, Tensor input, ExplainRequest request)
    {
        using var scope = NewDisposeScope();
        method.Explain(network, input, request);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static InspectionModel ImageNetModel(Device device) =>
        InspectionModel.FromImageNetTrunk(OnnxTrunkImporter.BundledTrunkPath, ["good", "defect"], device);

    private static void Print(IReadOnlyList<Row> rows, Agreement? agreement, InspectionModel model, Settings settings, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"model: {model.Metadata.Name} ({model.Network.Architecture.Name}), input {model.Metadata.Preprocessing.Width}x{model.Metadata.Preprocessing.Height}, engines {string.Join(" and ", settings.Engines)}, torch device {model.Device.type}, torch threads {get_num_threads()}, onnx device {settings.Onnx.Device}, OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "unset (libgomp spins; `run` sets PASSIVE)"}");
        output.WriteLine($"medians of {settings.Iterations} passes ({(settings.ScoreCamIterations > 0 ? $"{settings.ScoreCamIterations} for Score-CAM" : "Score-CAM left out")}) after {settings.Warmup} warm-up passes; each ratio is against {rows[0].Name} passes paired with it");
        output.WriteLine();
        output.WriteLine($"| measurement | ms/frame | frames/s | x {rows[0].Name} |");
        output.WriteLine("|---|---:|---:|---:|");
        foreach (var row in rows)
            output.WriteLine($"| {row.Name} | {row.MsPerFrame.ToString("0.0", inv)} | {(1000 / row.MsPerFrame).ToString("0.0", inv)} | {(row.Ratio is double r ? r.ToString("0.00", inv) : "1.00")} |");
        if (agreement is not null)
            output.WriteLine(string.Create(inv, $"\nAs served, torch ({model.Device.type}) and onnx ({settings.Onnx.Device}) on {agreement.Parts} synthetic parts: same verdict {agreement.SameVerdicts}/{agreement.Parts}, same number of regions {agreement.SameRegionCounts}/{agreement.Parts}, largest raw-map difference {agreement.MaxMapError:0.0e0} of the map's range."));
    }
}
