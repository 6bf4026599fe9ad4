using System.CommandLine;
using System.Globalization;
using DefectInspector.Training.Data;
using DefectInspector.Training.Train;
using Spectre.Console;

namespace DefectInspector.Cli.Commands;

/// <summary>`defect-inspector train`: fine-tune a GAP-ResNet on labelled part images and write a calibrated bundle.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new DataOptions();
        var output = new Option<FileInfo>("--out") { Description = "The model bundle to write (.dimodel); checkpoints go to <out>.training/.", Required = true };
        var defaults = new TrainingOptions();
        var arch = new Option<string>("--arch") { Description = "resnet18 (from the ImageNet trunk), resnet34 or resnet50.", DefaultValueFactory = _ => defaults.Architecture };
        var inputSize = new Option<int>("--input-size") { Description = "Square input size in pixels.", DefaultValueFactory = _ => defaults.InputSize };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => defaults.Epochs };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (AdamW, warm-up then cosine).", DefaultValueFactory = _ => defaults.LearningRate };
        var freeze = new Option<int>("--freeze") { Description = "Frozen stages: 0 none, 1 stem+layer1, ..., 4 the whole trunk.", DefaultValueFactory = _ => defaults.FreezeStages };
        var maskWeight = new Option<double>("--mask-weight")
        {
            Description = "Weight of location supervision from defect masks (the head at every feature location learns good on good parts and the defect where its mask is); 0 = image labels only.",
            DefaultValueFactory = _ => defaults.MaskWeight,
        };
        var patience = new Option<int>("--patience") { Description = "Epochs without a better validation AUROC before stopping.", DefaultValueFactory = _ => defaults.Patience };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => defaults.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => CliSettings.Device };
        var target = new Option<string>("--target") { Description = "Decision threshold goal: escape=0.01 (miss at most 1% of defective parts), f1, or a fixed probability.", DefaultValueFactory = _ => defaults.Target };
        var init = new Option<FileInfo?>("--init") { Description = "A torchvision-named state dict to start the trunk from (resnet34/resnet50)." };
        var validationFraction = new Option<double>("--val-fraction") { Description = "Share of images (or groups) held out for validation.", DefaultValueFactory = _ => 0.2 };
        var validationGroups = new Option<string[]>("--val-groups") { Description = "Hold out exactly these groups for validation.", AllowMultipleArgumentsPerToken = true };
        var method = new Option<string>("--method") { Description = "CAM method the region threshold is calibrated for.", DefaultValueFactory = _ => defaults.Method };
        var layer = new Option<string>("--layer") { Description = "Layer of that method's map; for layercam several comma-separated to fuse (layer2,layer3,layer4).", DefaultValueFactory = _ => defaults.Layer };
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted run from <out>.training/ (after a finished run: calibrate again, e.g. with another --target)." };
        var outputStride = new Option<int>("--output-stride")
        {
            Description = "Calibrate and serve at output stride 16 (layer4 dilated: a 2x finer heatmap, about 1.6x the inference cost) or 32; training runs at 32 either way.",
            DefaultValueFactory = _ => defaults.OutputStride,
        };
        var views = new Option<int>("--views")
        {
            Description = "Mirrored views of each frame the model sees, calibrated and served: 1, 2 or 4 (each view is a forward pass).",
            DefaultValueFactory = _ => defaults.Views,
        };
        var mapScore = new Option<string>("--map-score")
        {
            Description = "Score the maps explain and the region threshold is calibrated in: margin (defect class minus good) or logit.",
            DefaultValueFactory = _ => defaults.MapScore.ToString().ToLowerInvariant(),
        };
        var regionRelative = new Option<double?>("--region-relative") { Description = "Regions where the map reaches this fraction of the part's peak, instead of the threshold calibrated on good parts." };
        var regionQuantile = new Option<double>("--region-quantile") { Description = "Region threshold just above this quantile of good validation parts' peak heat.", DefaultValueFactory = _ => defaults.RegionQuantile };
        var reviewFraction = new Option<double>("--review-fraction") { Description = "Share of validation parts the uncertain band may hold.", DefaultValueFactory = _ => defaults.ReviewFraction };

        var command = new Command("train", "Fine-tune a GAP-ResNet on labelled images and write a calibrated model bundle.");
        data.AddTo(command);
        foreach (var option in new Option[] { output, arch, inputSize, epochs, batchSize, lr, freeze, maskWeight, patience, seed, device, target, init, validationFraction, validationGroups, method, layer, outputStride, views, mapScore, resume, regionQuantile, regionRelative, reviewFraction })
            command.Options.Add(option);

        command.SetAction((parse, cancellation) =>
        {
            using var loggers = CliLogging.Create();
            var log = loggers.CreateLogger("train");
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                var options = defaults with
                {
                    Architecture = parse.GetValue(arch)!,
                    InputSize = parse.GetValue(inputSize),
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batchSize),
                    LearningRate = parse.GetValue(lr),
                    FreezeStages = parse.GetValue(freeze),
                    MaskWeight = parse.GetValue(maskWeight),
                    Patience = parse.GetValue(patience),
                    Seed = parse.GetValue(seed),
                    Device = parse.GetValue(device)!,
                    Target = parse.GetValue(target)!,
                    InitWeights = parse.GetValue(init)?.FullName,
                    Method = parse.GetValue(method)!,
                    Layer = parse.GetValue(layer)!,
                    OutputStride = parse.GetValue(outputStride),
                    Views = parse.GetValue(views),
                    MapScore = Inference.Explain.MapScores.Parse(parse.GetValue(mapScore)!, "--map-score"),
                    RegionQuantile = parse.GetValue(regionQuantile),
                    RelativeRegions = parse.GetValue(regionRelative),
                    ReviewFraction = parse.GetValue(reviewFraction),
                };
                options.Validate();
                string outPath = parse.GetValue(output)!.FullName;
                var dataset = data.Read(parse, log);
                dataset.RequireBothClasses();
                var (train, validation) = DatasetSplitter.Split(dataset, new SplitOptions(parse.GetValue(validationFraction), options.Seed,
                    GroupBy: dataset.Images.Any(i => i.Group is not null), ValidationGroups: DataOptions.SplitList(parse.GetValue(validationGroups)) is { Count: > 0 } g ? g : null));
                stderr.WriteLine($"training on {train.Count} images, validating on {validation.Count} ({dataset.Images.Count} in {dataset.Source}, {dataset.Skipped} skipped)");

                var console = ProgressConsole.Create();
                TrainingSummary summary = null!;
                console.Progress()
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(context =>
                    {
                        var progress = new TrainingProgressBar(context);
                        summary = ModelTrainer.TrainAndPackage(dataset, train, validation, options, outPath, parse.GetValue(resume), progress, log, cancellation);
                    });
                var output2 = parse.InvocationConfiguration.Output;
                output2.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {outPath}: best epoch {summary.BestEpoch}, validation AUROC {summary.ValidationAuroc:0.0000}, threshold {summary.Decision.Threshold:0.0000} +- {summary.Decision.UncertainMargin:0.0000}, region threshold {summary.Regions.Threshold:0.000} ({summary.Regions.Mode})"));
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                stderr.WriteLine("interrupted: the last finished epoch is checkpointed; run the same command with --resume to continue");
                return Task.FromResult(130);
            }
            catch (Exception e) when (e is DataProblemException or Training.Calibrate.CalibrationException or FormatException or ArgumentException or InvalidDataException or IOException or InvalidOperationException or Inference.Weights.WeightsMismatchException or Vision.Imaging.ImageReadException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
        });
        return command;
    }
}
