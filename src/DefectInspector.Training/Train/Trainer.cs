using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using DefectInspector.Training.Data;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DefectInspector.Training.Train;

/// <summary>The fine-tuned network with what the run learnt about it.</summary>
public sealed record TrainedModel(GapResNet Network, IReadOnlyList<string> Classes, Preprocessing Preprocessing, string SourceWeights, IReadOnlyList<EpochRecord> History, int BestEpoch);

/// <summary>
/// Fine-tunes a GAP-ResNet: class-weighted cross-entropy (good parts outnumber defects), plus, where the data has
/// defect masks, location supervision of the head at every feature location (<see cref="TrainingOptions.MaskWeight"/>), AdamW with warm-up and
/// cosine decay, optional frozen stages, early stopping on validation AUROC, and a checkpoint after every epoch
/// from which an interrupted run resumes to the same result. Randomness comes from the seed and the epoch only.
/// </summary>
public sealed class Trainer(ILogger logger)
{
    public TrainedModel Train(Dataset data, IReadOnlyList<LabelledImage> train, IReadOnlyList<LabelledImage> validation,
        TrainingOptions options, string checkpointFolder, bool resume, ITrainingProgress progress, CancellationToken cancellation)
    {
        options.Validate();
        var device = TorchDevice.Resolve(options.Device);
        var classes = Classes(data);
        manual_seed(options.Seed);
        var (network, preprocessing, source) = CreateNetwork(options, classes.Count);
        try
        {
            network.to(device);
            // A checkpoint of another run is refused before the minutes spent decoding images.
            var checkpoint = new TrainingCheckpoint(checkpointFolder);
            string fingerprint = RunFingerprint(data, train, validation, options, classes);
            var state = new CheckpointState(fingerprint, 0, 0, 0, double.NegativeInfinity, double.PositiveInfinity, []);
            bool resuming = resume && checkpoint.Exists;
            if (resuming)
            {
                state = checkpoint.ReadState();
                if (state.RunFingerprint != fingerprint)
                    throw new InvalidOperationException($"--resume: the checkpoint in {checkpoint.Folder} belongs to a run with other data or options (run {state.RunFingerprint}, this one {fingerprint}); delete it or train without --resume");
            }
            else if (checkpoint.Exists)
            {
                logger.LogInformation("Starting over: a previous checkpoint in {Folder} is replaced (use --resume to continue it)", checkpoint.Folder);
            }

            progress.Phase("loading images");
            using var trainImages = new TrainingImages(train, classes);
            using var validationImages = new TrainingImages(validation, classes);
            if (options.MaskWeight > 0)
            {
                int defective = trainImages.Labels.Count(l => l != 0);
                if (trainImages.HasMasks)
                    logger.LogInformation("Location supervision at weight {MaskWeight}: {Masked} of {Defective} defective training images have a mask", options.MaskWeight, trainImages.MaskCount, defective);
                else
                    logger.LogInformation("No defect masks among {Defective} defective training images: training on image labels only", defective);
            }

            foreach (var module in network.TrunkStages(options.FreezeStages))
                foreach (var parameter in module.parameters())
                    parameter.requires_grad = false;
            var trainable = network.parameters().Where(p => p.requires_grad).ToList();
            using var optimizer = optim.AdamW(trainable, options.LearningRate, weight_decay: options.WeightDecay);
            int stepsPerEpoch = (trainImages.Count + options.BatchSize - 1) / options.BatchSize;
            var schedule = new LearningRateSchedule(options.LearningRate, (int)Math.Round(options.WarmupEpochs * stepsPerEpoch), options.Epochs * stepsPerEpoch);
            using var classWeights = ClassWeights(trainImages.Labels, classes.Count).to(device);

            if (resuming)
            {
                checkpoint.RestoreLast(network, optimizer);
                logger.LogInformation("Resuming after epoch {Epoch} from {Folder}", state.CompletedEpochs, checkpoint.Folder);
            }

            progress.Started(options.Epochs, stepsPerEpoch, state.CompletedEpochs);
            int sinceBest = state.History.Count - state.BestEpoch;
            for (int epoch = state.CompletedEpochs + 1; epoch <= options.Epochs && sinceBest < options.Patience; epoch++)
            {
                var watch = Stopwatch.StartNew();
                // Derived from the seed and epoch alone (HashCode is salted per process), so a run resumed in a new
                // process shuffles and augments its remaining epochs exactly as the uninterrupted run would.
                var random = new Random(unchecked(options.Seed * 7919 + epoch));
                double trainLoss = TrainEpoch(network, optimizer, trainImages, preprocessing, options, schedule, classWeights, epoch, ref state, random, device, progress, cancellation);
                var (valLoss, auroc) = Validate(network, validationImages, preprocessing, options.BatchSize, device, cancellation);
                var record = new EpochRecord(epoch, trainLoss, valLoss, auroc, schedule.At(Math.Max(0, state.Step - 1)), watch.Elapsed.TotalSeconds);
                bool improved = auroc > state.BestAuroc || (auroc == state.BestAuroc && valLoss < state.BestLoss);
                var history = state.History.Append(record).ToList();
                state = improved
                    ? state with { CompletedEpochs = epoch, BestEpoch = epoch, BestAuroc = auroc, BestLoss = valLoss, History = history }
                    : state with { CompletedEpochs = epoch, History = history };
                sinceBest = improved ? 0 : sinceBest + 1;
                checkpoint.Save(state, network, optimizer, improved);
                progress.EpochFinished(record, improved);
                logger.LogInformation("Epoch {Epoch}: train loss {TrainLoss:0.0000}, validation loss {ValidationLoss:0.0000}, AUROC {Auroc:0.0000}", epoch, trainLoss, valLoss, auroc);
            }

            checkpoint.RestoreBest(network);
            network.eval();
            return new TrainedModel(network, classes, preprocessing, source, state.History, state.BestEpoch);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>"good" first; one class per defect kind when the data names more than one, else "defect".</summary>
    public static IReadOnlyList<string> Classes(Dataset data) =>
        data.HasKinds ? data.Kinds.ToList() : [LabelledImage.GoodKind, "defect"];

    private static double TrainEpoch(GapResNet network, OptimizerHelper optimizer, TrainingImages images, Preprocessing preprocessing, TrainingOptions options,
        LearningRateSchedule schedule, Tensor classWeights, int epoch, ref CheckpointState state, Random random, Device device, ITrainingProgress progress, CancellationToken cancellation)
    {
        network.train();
        // Frozen stages keep ImageNet's BatchNorm statistics.
        foreach (var module in network.TrunkStages(options.FreezeStages)) module.eval();
        var order = Enumerable.Range(0, images.Count).OrderBy(_ => random.Next()).ToArray();
        bool supervisesLocations = options.MaskWeight > 0 && images.HasMasks;
        double lossSum = 0;
        int seen = 0;
        for (int start = 0, step = 0; start < order.Length; start += options.BatchSize, step++)
        {
            cancellation.ThrowIfCancellationRequested();
            // A last batch of one would break BatchNorm in training mode; it joins the next epoch's shuffle instead.
            if (order.Length - start < 2) break;
            var indices = order.Skip(start).Take(options.BatchSize).ToList();
            using var scope = NewDisposeScope();
            using var batch = images.Batch(indices, preprocessing, options.Augment, random, withMasks: supervisesLocations);
            double rate = schedule.At(state.Step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
            var output = network.Run(InputBatch.ToTensor(batch.Inputs, preprocessing, device));
            var loss = nn.functional.cross_entropy(output.Logits, tensor(batch.Labels, device: device), weight: classWeights);
            if (supervisesLocations)
                loss = loss + options.MaskWeight * LocationLoss(network, output.Features, batch, device);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            double value = loss.item<float>();
            lossSum += value * indices.Count;
            seen += indices.Count;
            state = state with { Step = state.Step + 1 };
            progress.Step(epoch, step + 1, value, rate);
        }
        return lossSum / Math.Max(1, seen);
    }

    private static (double Loss, double Auroc) Validate(GapResNet network, TrainingImages images, Preprocessing preprocessing, int batchSize, Device device, CancellationToken cancellation)
    {
        network.eval();
        var scores = new float[images.Count];
        var defect = new bool[images.Count];
        double lossSum = 0;
        using var _ = no_grad();
        for (int start = 0; start < images.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(start, Math.Min(batchSize, images.Count - start)).ToList();
            using var batch = images.Batch(indices, preprocessing, Augment.AugmentOptions.None, random: null, withMasks: false);
            var logits = network.call(InputBatch.ToTensor(batch.Inputs, preprocessing, device));
            lossSum += nn.functional.cross_entropy(logits, tensor(batch.Labels, device: device), reduction: nn.Reduction.Sum).item<float>();
            var pGood = nn.functional.softmax(logits, 1)[.., 0].cpu();
            for (int i = 0; i < indices.Count; i++)
            {
                scores[start + i] = 1f - pGood[i].item<float>();
                defect[start + i] = batch.Labels[i] != 0;
            }
        }
        return (lossSum / Math.Max(1, images.Count), Evaluate.ImageMetrics.Auroc(scores, defect));
    }

    /// <summary>
    /// Cross-entropy of the head at each feature location against <see cref="LocationTargets"/>. Good and defect
    /// locations weigh the same, each the mean of its own kind: a defect covers a few of a part's locations, and
    /// counted one by one the good ones would drown it.
    /// </summary>
    private static Tensor LocationLoss(GapResNet network, Tensor features, TrainingBatch batch, Device device)
    {
        int height = (int)features.shape[2], width = (int)features.shape[3];
        var targets = LocationTargets.From(batch.Masks, batch.Labels, height, width);
        var target = tensor(targets, device: device).view(batch.Labels.Length, height, width);
        var perLocation = nn.functional.cross_entropy(network.LocationLogits(features), target, ignore_index: LocationTargets.Ignore, reduction: nn.Reduction.None);
        var terms = new List<Tensor>(2);
        if (targets.Any(t => t == 0)) terms.Add(perLocation.masked_select(target.eq(0)).mean());
        if (targets.Any(t => t > 0)) terms.Add(perLocation.masked_select(target.gt(0)).mean());
        return terms.Count switch
        {
            0 => zeros(1, device: device).squeeze(),
            1 => terms[0],
            _ => (terms[0] + terms[1]) / 2,
        };
    }

    private static Tensor ClassWeights(IReadOnlyList<int> labels, int classes)
    {
        // Inverse frequency, normalised to mean 1: every class weighs the same in the loss, whatever its count.
        var counts = new double[classes];
        foreach (int l in labels) counts[l]++;
        var weights = counts.Select(c => c > 0 ? labels.Count / (classes * c) : 0.0).Select(w => (float)w).ToArray();
        return tensor(weights);
    }

    private static (GapResNet Network, Preprocessing Preprocessing, string Source) CreateNetwork(TrainingOptions options, int classes)
    {
        var architecture = Architecture.Parse(options.Architecture);
        if (options.InitWeights is null && architecture == Architecture.ResNet18)
        {
            using var trunk = OnnxTrunkImporter.Import(OnnxTrunkImporter.BundledTrunkPath);
            return (trunk.CreateModel(classes), trunk.Preprocessing with { Width = options.InputSize, Height = options.InputSize }, trunk.Provenance);
        }
        var network = new GapResNet(architecture, classes);
        if (options.InitWeights is null)
            return (network, Preprocessing.ImageNet(options.InputSize, options.InputSize), "random initialisation");
        try
        {
            StateDict.LoadFile(network, options.InitWeights, includeHead: false);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return (network, Preprocessing.ImageNet(options.InputSize, options.InputSize), options.InitWeights);
    }

    private static string RunFingerprint(Dataset data, IReadOnlyList<LabelledImage> train, IReadOnlyList<LabelledImage> validation, TrainingOptions options, IReadOnlyList<string> classes)
    {
        var text = new StringBuilder();
        text.AppendLine(options.WeightsOnly().ToString()).AppendLine(string.Join(",", classes));
        foreach (var image in train) text.Append("T ").AppendLine(image.Path);
        foreach (var image in validation) text.Append("V ").AppendLine(image.Path);
        text.AppendLine(data.Images.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
