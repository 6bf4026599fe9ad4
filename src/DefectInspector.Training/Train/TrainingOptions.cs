using DefectInspector.Training.Augment;

namespace DefectInspector.Training.Train;

/// <summary>
/// How to fine-tune. The defaults fit the 20-minute budget for ~1100 images on a 2-core CPU: the ImageNet
/// ResNet-18 trunk, 256 px input (blowholes of 30 px stay several feature pixels wide), stem, layer1 and layer2
/// frozen (generic texture features; fewer weights to move on a few hundred images), 10 epochs, location supervision
/// from the masks: 14 min 52 s measured, calibration at 4 views included.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>resnet18 starts from the ImageNet trunk (CNTK's ResNet-18); resnet34/resnet50 start from <see cref="InitWeights"/> or random.</summary>
    public string Architecture { get; init; } = "resnet18";

    public int InputSize { get; init; } = 256;

    public int Epochs { get; init; } = 10;

    public int BatchSize { get; init; } = 16;

    // Higher rates wash out the ImageNet features in the first epoch (validation AUROC stayed near 0.5 at 1e-3).
    public double LearningRate { get; init; } = 3e-4;

    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Linear warm-up, in epochs, before the cosine decay.</summary>
    public double WarmupEpochs { get; init; } = 0.5;

    /// <summary>Epochs without a better validation AUROC before stopping early.</summary>
    public int Patience { get; init; } = 3;

    /// <summary>Stages kept frozen: 0 = none, 1 = stem and layer1, ... 4 = the whole trunk (head only).</summary>
    public int FreezeStages { get; init; } = 2;

    public int Seed { get; init; }

    public string Device { get; init; } = "cpu";

    /// <summary>Decision threshold goal: escape=0.01, f1, or a fixed probability.</summary>
    public string Target { get; init; } = "escape=0.01";

    /// <summary>Share of validation parts the uncertain band around the threshold may send to an operator.</summary>
    public double ReviewFraction { get; init; } = 0.02;

    /// <summary>
    /// The region threshold sits just above this quantile of the good validation parts' peak heat; 1.0 puts it above
    /// the hottest good part. 0.98, not 0.95: a threshold where exactly 5% of validation's good parts get a region
    /// gives more than 5% on new parts about half the time. 0.98 leaves 3 of 160 good validation parts above it, and
    /// 3 of 160 bounds the share of good parts with a region under 5% with 95% confidence (Clopper-Pearson), the way a
    /// quality engineer states such a limit. On the magnetic tile's unseen session 0.95 gave regions to 7.5% of good
    /// parts, 0.98 to 2.5%.
    /// </summary>
    public double RegionQuantile { get; init; } = 0.98;

    /// <summary>
    /// Regions where the map reaches this fraction of the part's own peak, instead of the absolute threshold calibrated
    /// on good parts; none = the calibrated one. For data whose good and defective parts lie so far apart that a
    /// defective part's whole map clears every good part's peak (the virtual line's parts): there the calibrated
    /// threshold makes one region of the frame. Regions still go only to parts the decision does not pass.
    /// </summary>
    public double? RelativeRegions { get; init; }

    /// <summary>
    /// Weight of location supervision against the image loss, used when the training images have defect masks: the
    /// head at every feature location (the CAM of each class plus its bias) learns to say good all over a good part
    /// and the defect's class where its mask is. 0 trains on image labels alone. Image labels alone let the map
    /// spread or drift away from the defect as long as its mean decides the part; the masks say where it should be.
    /// </summary>
    public double MaskWeight { get; init; } = 1.0;

    /// <summary>A torchvision-named state dict to start resnet34/resnet50 (or resnet18) from instead.</summary>
    public string? InitWeights { get; init; }

    public AugmentOptions Augment { get; init; } = new();

    /// <summary>The CAM method and layer the region threshold is calibrated for.</summary>
    public string Method { get; init; } = "cam";

    public string Layer { get; init; } = "layer4";

    /// <summary>
    /// The stride the bundle is calibrated and served at: 16 (layer4 dilated, a 2x finer heatmap for about 1.6x the
    /// inference cost: blowholes stop vanishing between feature pixels) or 32 as trained. Training itself always runs at 32.
    /// </summary>
    public int OutputStride { get; init; } = 16;

    /// <summary>
    /// Mirrored views the bundle is calibrated and served with (1, 2 or 4; see <see cref="Inference.Explain.MirrorViews"/>):
    /// 4 gains about 0.01 image AUROC and a steadier map on the magnetic tile, for 4 forward passes per frame.
    /// </summary>
    public int Views { get; init; } = 4;

    /// <summary>The score the maps explain and the region threshold is calibrated in: the defect class's margin over good.</summary>
    public Inference.Explain.MapScore MapScore { get; init; } = Inference.Explain.MapScore.Margin;

    /// <summary>The options that shape the weights; calibration-only options may change on --resume.</summary>
    public TrainingOptions WeightsOnly() => this with
    {
        Target = "",
        ReviewFraction = 0,
        RegionQuantile = 1,
        RelativeRegions = null,
        Method = "cam",
        Layer = "layer4",
        OutputStride = 32,
        Views = 1,
        MapScore = Inference.Explain.MapScore.Logit,
    };

    public void Validate()
    {
        Inference.Model.Architecture.Parse(Architecture);
        if (InputSize is < 64 or > 1024) throw new ArgumentException($"--input-size {InputSize}: expected 64..1024");
        if (Epochs < 1) throw new ArgumentException($"--epochs {Epochs}: expected at least 1");
        if (BatchSize < 2) throw new ArgumentException($"--batch-size {BatchSize}: expected at least 2 (BatchNorm needs a batch)");
        if (!(LearningRate > 0)) throw new ArgumentException($"--lr {LearningRate}: expected a positive learning rate");
        if (FreezeStages is < 0 or > 4) throw new ArgumentException($"--freeze {FreezeStages}: expected 0..4");
        if (Patience < 1) throw new ArgumentException($"--patience {Patience}: expected at least 1");
        if (!(MaskWeight >= 0) || double.IsInfinity(MaskWeight)) throw new ArgumentException($"--mask-weight {MaskWeight}: expected a finite weight >= 0 (0 = image labels only)");
        if (RegionQuantile is <= 0 or > 1) throw new ArgumentException($"--region-quantile {RegionQuantile}: expected (0, 1]");
        if (RelativeRegions is { } relative && relative is not (> 0 and <= 1)) throw new ArgumentException($"--region-relative {relative}: expected a fraction of the peak in (0, 1]");
        if (ReviewFraction is < 0 or >= 1) throw new ArgumentException($"--review-fraction {ReviewFraction}: expected [0, 1)");
        Inference.Explain.CamMethods.Create(Method).CheckLayer(Layer);
        try
        {
            Calibrate.ThresholdGoal.Parse(Target);
            if (OutputStride is not (16 or 32))
                throw new ArgumentException($"--output-stride {OutputStride}: expected 16 or 32");
            Inference.Explain.MirrorViews.Validate(Views, "--views");
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"--target '{Target}': {e.Message}", e);
        }
    }
}
