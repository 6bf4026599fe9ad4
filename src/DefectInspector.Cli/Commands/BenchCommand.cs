using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using DefectInspector.Vision.Imaging;
using Spectre.Console;
using static TorchSharp.torch;

namespace DefectInspector.Cli.Commands;

/// <summary>
/// `defect-inspector bench`: forward latency and each explainer's cost as a ratio to the bare forward pass,
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
        var scoreCamIterations = new Option<int>("--scorecam-iterations") { Description = "Timed Score-CAM passes (each is hundreds of forwards).", DefaultValueFactory = _ => 3 };
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
                using var model = parse.GetValue(source.Model) is null && parse.GetValue(source.Weights) is null
                    ? ImageNetModel(TorchDevice.Resolve(parse.GetValue(source.Device)!))
                    : source.Load(parse);
                if (parse.GetValue(soak) is var minutes and not 0)
                {
                    if (minutes < 0) throw new UsageException($"--soak {minutes}: expected minutes > 0");
                    return await SoakBench.RunAsync(model, minutes, parse.GetValue(maxGrowth), parse.InvocationConfiguration.Output, cancellation);
                }
                var settings = new Settings(parse.GetValue(iterations), parse.GetValue(warmup), parse.GetValue(scoreCamIterations));
                var rows = Run(model, parse.GetValue(image)?.FullName, settings, cancellation);
                var output = parse.InvocationConfiguration.Output;
                Print(rows, model, settings, output);
                if (parse.GetValue(pipelineSeconds) is > 0 and int seconds)
                    PrintPipeline(await RunPipelineAsync(model, rows, TimeSpan.FromSeconds(seconds), cancellation), rows, output);
                return 0;
            }
            catch (Exception e) when (e is UsageException or ArgumentException or InvalidDataException or IOException or InvalidOperationException or ImageReadException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    internal sealed record Settings(int Iterations, int Warmup, int ScoreCamIterations);

    internal sealed record Row(string Name, double MsPerFrame, double? Ratio);

    internal static IReadOnlyList<Row> Run(InspectionModel model, string? imagePath, Settings settings, CancellationToken cancellation)
    {
        var spec = model.Metadata.Preprocessing;
        using var frame = imagePath is null ? BenchFrames.Part(spec.Width * 2, spec.Height * 2, seed: 1) : ImageReader.Read(imagePath);
        var input = Preprocessor.Preprocess(frame, spec);
        using var scope = NewDisposeScope();
        var one = model.ToBatch([input]);
        var eight = model.ToBatch(Enumerable.Repeat(input, 8).ToList());
        var network = model.Network;
        network.eval();
        var request = model.Request(Layers.Last) with { Views = 1 };

        Action forwardOne = () => Forward(network, one);
        // What the other output stride costs (docs/model-bundle.md, outputStride): the same weights, layer4 (un)dilated.
        using var otherStride = network.AtOutputStride(network.OutputStride == 32 ? 16 : 32);
        otherStride.eval();
        var explainers = new List<(string Name, int Iterations, Action Pass)>
        {
            ("cam (layer4)", settings.Iterations, () => Explain(new Cam(), network, one, request)),
            ("gradcam (layer4, closed form)", settings.Iterations, () => Explain(new GradCam(), network, one, request)),
            ("gradcam++ (layer4, closed form)", settings.Iterations, () => Explain(new GradCamPlusPlus(), network, one, request)),
            ("layercam (layer4, closed form)", settings.Iterations, () => Explain(new LayerCam(), network, one, request)),
            ("gradcam (layer4, autograd)", settings.Iterations, () => Explain(new GradCam { UseClosedFormGradients = false }, network, one, request)),
            ("gradcam (layer3, autograd)", settings.Iterations, () => Explain(new GradCam(), network, one, request with { Layer = "layer3" })),
            ("gradcam++ (layer3, autograd)", settings.Iterations, () => Explain(new GradCamPlusPlus(), network, one, request with { Layer = "layer3" })),
            ("layercam (layer3, autograd)", settings.Iterations, () => Explain(new LayerCam(), network, one, request with { Layer = "layer3" })),
            ($"scorecam (layer4, {network.Architecture.FeatureChannels} channels)", settings.ScoreCamIterations, () => Explain(new ScoreCam(), network, one, request)),
            ($"cam (layer4) at output stride {otherStride.OutputStride}", settings.Iterations, () => Explain(new Cam(), otherStride, one, request)),
            ("cam (layer4), 4 mirrored views", settings.Iterations, () => Explain(new Cam(), network, one, request with { Views = 4 })),
        };

        var results = new List<Row>();
        var console = ProgressConsole.Create();
        console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(progress =>
        {
            var warm = progress.AddTask("warm-up", maxValue: settings.Warmup);
            var batched = progress.AddTask("forward, batch 1 and 8", maxValue: settings.Iterations);
            var tasks = explainers.Select(c => progress.AddTask(c.Name, maxValue: c.Iterations)).ToList();

            // libtorch's CPU kernels need dozens of passes before their timings settle.
            for (int w = 0; w < settings.Warmup; w++)
            {
                forwardOne();
                Forward(network, eight);
                warm.Increment(1);
            }

            var forwardTimes = new List<double>();
            var eightTimes = new double[settings.Iterations];
            for (int k = 0; k < settings.Iterations; k++)
            {
                cancellation.ThrowIfCancellationRequested();
                forwardTimes.Add(Time(forwardOne, 1));
                eightTimes[k] = Time(() => Forward(network, eight), 8);
                batched.Increment(1);
            }

            // Each explainer pass is paired with a forward pass right before it, so slow drift of the
            // machine's speed cancels out of the ratio.
            var pairs = new List<(string Name, double[] Explain, double[] Forward)>();
            for (int i = 0; i < explainers.Count; i++)
            {
                var (name, count, pass) = explainers[i];
                pass();
                var explain = new double[count];
                var forward = new double[count];
                for (int k = 0; k < count; k++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    forward[k] = Time(forwardOne, 1);
                    explain[k] = Time(pass, 1);
                    tasks[i].Increment(1);
                }
                forwardTimes.AddRange(forward);
                pairs.Add((name, explain, forward));
            }

            results.Add(new Row("forward, batch 1", Median(forwardTimes), null));
            results.Add(new Row("forward, batch 8 (per frame)", Median(eightTimes), Median(eightTimes) / Median(forwardTimes)));
            foreach (var (name, explain, forward) in pairs)
                results.Add(new Row(name, Median(explain), Median(explain) / Median(forward)));
        });
        return results;
    }

    /// <summary>The daemon, in this process: throughput at batch 1 and 8, then latency with the file at half the batch-1 pipeline rate.</summary>
    private static async Task<IReadOnlyList<PipelineBench.Result>> RunPipelineAsync(InspectionModel model, IReadOnlyList<Row> rows, TimeSpan measure, CancellationToken cancellation)
    {
        string work = Directory.CreateTempSubdirectory("di-bench-").FullName;
        try
        {
            var bench = new PipelineBench(model, work);
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

    private static void PrintPipeline(IReadOnlyList<PipelineBench.Result> results, IReadOnlyList<Row> rows, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        double forwardMs = rows[0].MsPerFrame;
        double ForwardFps(int batch) => 1000 / (batch == 1 ? forwardMs : rows[1].MsPerFrame);
        output.WriteLine();
        output.WriteLine("Daemon pipeline in this process: video file -> capture -> inspection (CAM, regions) -> snapshot -> MQTT -> subscriber.");
        output.WriteLine("| pipeline run | verdicts/s | x forward fps (same batch) | capture-to-received p50 ms | p99 ms | p99 / forward ms (batch 1) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            output.WriteLine(string.Create(inv, $"| {r.Name} ({r.Verdicts} verdicts) | {r.Fps:0.0} | {r.Fps / ForwardFps(r.Batch):0.00} | {r.LatencyP50Ms:0} | {r.LatencyP99Ms:0} | {r.LatencyP99Ms / forwardMs:0.00} |"));
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

    private static void Explain(CamMethod method, GapResNet network, Tensor input, ExplainRequest request)
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

    private static void Print(IReadOnlyList<Row> rows, InspectionModel model, Settings settings, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"model: {model.Metadata.Name} ({model.Network.Architecture.Name}), input {model.Metadata.Preprocessing.Width}x{model.Metadata.Preprocessing.Height}, device {model.Device.type}, torch threads {get_num_threads()}, OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "unset (libgomp spins; `run` sets PASSIVE)"}");
        output.WriteLine($"medians of {settings.Iterations} passes ({settings.ScoreCamIterations} for Score-CAM) after {settings.Warmup} warm-up passes; each ratio is against forward passes paired with it");
        output.WriteLine();
        output.WriteLine("| measurement | ms/frame | x forward |");
        output.WriteLine("|---|---:|---:|");
        foreach (var row in rows)
            output.WriteLine($"| {row.Name} | {row.MsPerFrame.ToString("0.0", inv)} | {(row.Ratio is double r ? r.ToString("0.00", inv) : "1.00")} |");
    }
}
