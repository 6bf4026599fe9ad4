using DefectInspector.Core.Decision;
using DefectInspector.Core.Naming;
using DefectInspector.Core.Regions;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Inspect;
using DefectInspector.Inference.Model;
using DefectInspector.Training.Calibrate;
using DefectInspector.Training.Data;
using DefectInspector.Training.Evaluate;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Training.Train;

/// <summary>What a finished training run reports.</summary>
public sealed record TrainingSummary(string BundlePath, int BestEpoch, double ValidationAuroc, DecisionThresholds Decision, RegionSettings Regions, IReadOnlyList<EpochRecord> History);

/// <summary>
/// Train, then calibrate on the validation images and write the bundle: the decision threshold for the stated goal,
/// and the region threshold in raw map units from good parts, so a region means "hotter than good parts get".
/// </summary>
public static class ModelTrainer
{
    public static TrainingSummary TrainAndPackage(Dataset data, IReadOnlyList<LabelledImage> train, IReadOnlyList<LabelledImage> validation,
        TrainingOptions options, string bundlePath, bool resume, ITrainingProgress progress, ILogger logger, CancellationToken cancellation)
    {
        var goal = ThresholdGoal.Parse(options.Target);
        // The bundle refuses such a name when it is saved; said now, before the training it would otherwise cost.
        foreach (var name in Trainer.Classes(data))
            if (!TopicName.IsValid(name))
                throw new DataProblemException($"dataset '{data.Source}': class '{name}': expected {TopicName.Allowed} (class names become folder names and MQTT labels); rename its folder or label");
        var trained = new Trainer(logger).Train(data, train, validation, options, bundlePath + ".training", resume, progress, cancellation);
        var draft = new BundleMetadata
        {
            Name = Path.GetFileNameWithoutExtension(bundlePath),
            Version = DateTimeOffset.UtcNow.ToString("yyyyMMdd.HHmmss", System.Globalization.CultureInfo.InvariantCulture),
            Architecture = trained.Network.Architecture.Name,
            Classes = trained.Classes,
            GoodClass = LabelledImage.GoodKind,
            Preprocessing = trained.Preprocessing,
            Explainer = new ExplainerDefaults(options.Method, options.Layer, options.MapScore),
            OutputStride = options.OutputStride,
            Views = options.Views,
        };
        using var model = InspectionModel.FromNetwork(AtStride(trained.Network, options.OutputStride), draft, Inference.Model.TorchDevice.Resolve(options.Device), "in training");

        progress.Phase("calibrating on validation images");
        // The engine borrows the model: the using above disposes it.
        var inspector = new PartInspector(new TorchEngine(model), options.Method, options.Layer, regions: draft.Regions);
        var outcomes = Evaluator.Run(inspector, validation, options.BatchSize, null, cancellation);
        var scores = outcomes.Select(o => o.DefectScore).ToArray();
        var defect = outcomes.Select(o => o.IsDefect).ToArray();
        var decision = ThresholdCalibrator.Calibrate(scores, defect, goal, options.ReviewFraction);
        var regions = options.RelativeRegions is { } relative
            ? draft.Regions with { Mode = ThresholdMode.Relative, Threshold = (float)relative }
            : RegionCalibrator.Calibrate(outcomes, options.RegionQuantile, draft.Regions.MinArea, draft.Regions.MaxRegions);
        double auroc = ImageMetrics.Auroc(scores, defect);

        var metadata = draft with
        {
            Decision = decision,
            Regions = regions,
            Provenance = new Provenance
            {
                SourceWeights = trained.SourceWeights,
                DatasetFingerprint = data.Fingerprint(),
                Seed = options.Seed,
                ValidationMetrics = new Dictionary<string, double>
                {
                    ["auroc"] = auroc,
                    ["averagePrecision"] = ImageMetrics.AveragePrecision(scores, defect),
                    ["bestEpoch"] = trained.BestEpoch,
                    ["epochs"] = trained.History.Count,
                    ["trainImages"] = train.Count,
                    ["validationImages"] = validation.Count,
                },
                Notes = $"target {goal}; {options}",
            },
        };
        ModelBundle.Save(bundlePath, model.Network, metadata);
        return new TrainingSummary(bundlePath, trained.BestEpoch, auroc, decision, regions, trained.History);
    }

    /// <summary>The trained network as served at <paramref name="outputStride"/>: the same weights, layer4 dilated for 16.</summary>
    private static GapResNet AtStride(GapResNet trained, int outputStride)
    {
        if (trained.OutputStride == outputStride) return trained;
        using (trained) return trained.AtOutputStride(outputStride);
    }
}
