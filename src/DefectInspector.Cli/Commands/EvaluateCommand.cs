using System.CommandLine;
using System.Globalization;
using DefectInspector.Core.Explain;
using DefectInspector.Inference.Explain;
using DefectInspector.Training.Data;
using DefectInspector.Training.Evaluate;
using DefectInspector.Training.Faithfulness;
using DefectInspector.Vision.Imaging;
using DefectInspector.Vision.Rendering;
using Spectre.Console;

namespace DefectInspector.Cli.Commands;

/// <summary>`defect-inspector evaluate`: image-level and localisation metrics of a model on labelled images, with a report.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var data = new DataOptions();
        var source = new ModelSource();
        var report = new Option<DirectoryInfo?>("--report") { Description = "Folder for report.json and report.html." };
        var method = new Option<string?>("--method") { Description = $"One of {string.Join(", ", CamMethods.Names)} (default: the bundle's)." };
        var layer = new Option<string?>("--layer") { Description = "Layer, or for layercam several comma-separated to fuse (default: the bundle's)." };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 8 };
        var faithfulness = new Option<int>("--faithfulness")
        {
            Description = "Defective images (a seeded sample) on which deletion, insertion and ROAD measure the maps' faithfulness; 0 = none.",
            DefaultValueFactory = _ => 16,
        };

        var command = new Command("evaluate", "Measure a model on labelled images: AUROC, AP, F1, escapes, localisation; optional HTML report.");
        data.AddTo(command);
        source.AddTo(command);
        command.Options.Add(report);
        command.Options.Add(method);
        command.Options.Add(layer);
        command.Options.Add(batchSize);
        command.Options.Add(faithfulness);

        command.SetAction((parse, cancellation) =>
        {
            using var loggers = CliLogging.Create();
            var log = loggers.CreateLogger("evaluate");
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                var inspector = source.OpenInspector(parse, parse.GetValue(method), parse.GetValue(layer), className: null);
                using var engine = inspector.Engine;
                var model = engine.Metadata;
                var dataset = data.Read(parse, log);
                // Data that names a test split is evaluated on it; otherwise on everything selected.
                var images = dataset.Images.Any(i => i.Split == "test") ? dataset.Images.Where(i => i.Split == "test").ToList() : dataset.Images.ToList();
                if (images.Count == 0) throw new DataProblemException($"{dataset.Source}: no images to evaluate");

                int faithfulnessImages = parse.GetValue(faithfulness);
                if (faithfulnessImages < 0) throw new UsageException($"--faithfulness {faithfulnessImages}: expected 0 (none) or more images");
                IReadOnlyList<ImageOutcome> outcomes = [];
                FaithfulnessSummary? faithful = null;
                var console = ProgressConsole.Create();
                console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()).Start(context =>
                {
                    var task = context.AddTask($"evaluating {images.Count} images ({inspector.Method}, {engine.Name} engine)", maxValue: images.Count);
                    outcomes = Evaluator.Run(inspector, images, parse.GetValue(batchSize), done => task.Value = done, cancellation);
                    if (faithfulnessImages == 0) return;
                    var perturbing = context.AddTask("faithfulness: deletion, insertion, ROAD", maxValue: 1);
                    faithful = FaithfulnessEvaluation.Run(inspector, images, faithfulnessImages, new FaithfulnessOptions(),
                        (done, of) => { perturbing.MaxValue = of; perturbing.Value = done; }, cancellation);
                    perturbing.StopTask();
                });

                var subject = new ReportSubject($"{model.Name} {model.Version}", engine.Sha256, dataset.Source, $"{inspector.Method}/{inspector.Layer}, {model.Explainer.Score.ToString().ToLowerInvariant()}, output stride {model.OutputStride}, {model.Views} view(s), {engine.Name} engine");
                var result = EvaluationReport.Create(outcomes, subject, model.Decision, model.Regions) with { Faithfulness = faithful };
                if (parse.GetValue(report) is { } dir)
                {
                    Directory.CreateDirectory(dir.FullName);
                    var files = result.Write(dir.FullName, outcomes, Overlay);
                    stderr.WriteLine($"report: {files.Html}");
                }
                Print(result, stdout);
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                stderr.WriteLine("interrupted");
                return Task.FromResult(130);
            }
            catch (Exception e) when (e is UsageException or DataProblemException or ArgumentException or InvalidDataException or IOException or InvalidOperationException or ImageReadException or Inference.Weights.WeightsMismatchException or Inference.Engine.EngineUnavailableException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
        });
        return command;
    }

    private static byte[] Overlay(ImageOutcome outcome)
    {
        using var frame = ImageReader.Read(outcome.Path);
        var heat = outcome.FrameHeat ?? new FloatMap(1, 1, [0f]);
        float max = heat.Values.Max();
        var display = new FloatMap(heat.Width, heat.Height, heat.Values.Select(v => max > 0 ? Math.Max(v, 0) / max : 0f).ToArray());
        string header = string.Create(CultureInfo.InvariantCulture, $"{outcome.Kind}: {outcome.PredictedClass} {outcome.DefectScore:0.00}");
        var truth = new TruthMarks(outcome.Mask, outcome.FrameHeat is { } h ? LocalisationMetrics.Peak(h) : null);
        return OverlayRenderer.Render(frame, display, outcome.Regions, header, new OverlayOptions(MaxWidth: 480), truth);
    }

    private static void Print(EvaluationReport report, TextWriter output)
    {
        string F(double? v) => v is double d ? d.ToString("0.0000", CultureInfo.InvariantCulture) : "n/a";
        var c = report.ImageLevel.Confusion;
        output.WriteLine($"images {report.Counts.Images} ({report.Counts.Defective} defective, {report.Counts.Good} good), threshold {report.Decision.Threshold.ToString(CultureInfo.InvariantCulture)}");
        output.WriteLine($"image AUROC {F(report.ImageLevel.Auroc)}  AP {F(report.ImageLevel.AveragePrecision)}  F1 {F(c.F1)}  escape rate {F(c.EscapeRate)}  false-reject rate {F(c.FalseRejectRate)}");
        output.WriteLine($"confusion: TP {c.TruePositives}  FN {c.FalseNegatives}  FP {c.FalsePositives}  TN {c.TrueNegatives}");
        foreach (var kind in report.PerKind)
            output.WriteLine($"  {kind.Kind}: {kind.Images} images, recall {F(kind.Recall)}, AUROC vs good {F(kind.AurocVersusGood)}");
        if (report.Localisation is { } l)
        {
            output.WriteLine($"localisation: pixel AUROC {F(l.PixelAuroc)}  pointing game {F(l.PointingGame)}  region recall {F(l.RegionRecall)}  good parts with regions {F(l.FalseRegionRate)}  region IoU {F(l.MeanRegionIou)}");
            foreach (var kind in l.PerKind)
                output.WriteLine($"  {kind.Kind}: {kind.Scored} images, pointing game {F(kind.PointingGame)}, region recall {F(kind.RegionRecall)}, region IoU {F(kind.MeanRegionIou)}");
        }
        if (report.Faithfulness is { } f)
        {
            output.WriteLine($"faithfulness ({f.Method}, {f.Images} defective images): deletion AUC {F(f.DeletionAuc)} (lower is better)  insertion AUC {F(f.InsertionAuc)} (higher)  " +
                $"ROAD most relevant first {F(f.RoadMostRelevantFirst)} (lower)  least relevant first {F(f.RoadLeastRelevantFirst)} (higher)");
        }
    }
}
