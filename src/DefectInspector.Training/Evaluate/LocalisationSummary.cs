namespace DefectInspector.Training.Evaluate;

/// <summary>
/// How well the heat and the regions point at defects. Only images with a frame heatmap take part; defective
/// images also need a mask with at least one defect pixel, and those without one are counted, not scored.
/// Rates are null when no image qualifies for them.
/// </summary>
public sealed record LocalisationSummary
{
    /// <summary>Defective images with heat and a non-empty mask: the denominator of pointing game, region recall and IoU.</summary>
    public required int DefectImagesScored { get; init; }

    /// <summary>Defective images with heat whose mask marks no pixel (labelled defects with nothing drawn).</summary>
    public required int DefectImagesWithEmptyMask { get; init; }

    /// <summary>Defective images with heat but no mask at all.</summary>
    public required int DefectImagesWithoutMask { get; init; }

    /// <summary>Images of either label without a frame heatmap (not explained), left out of every localisation metric.</summary>
    public required int ImagesWithoutHeat { get; init; }

    /// <summary>Good images with heat: their pixels are negatives for the pixel AUROC; their regions are false regions.</summary>
    public required int GoodImagesScored { get; init; }

    /// <summary>Pixel-level AUROC of the frame heat against the masks, over <see cref="PixelsSampled"/> pixels.</summary>
    public required double? PixelAuroc { get; init; }

    public required long PixelsTotal { get; init; }

    public required int PixelsSampled { get; init; }

    /// <summary>Radius, in frame pixels, within which the hottest pixel must lie from a defect pixel to count as a hit.</summary>
    public required int PointingRadius { get; init; }

    public required int PointingHits { get; init; }

    public required double? PointingGame { get; init; }

    /// <summary>Defective images where some region box covers a defect pixel.</summary>
    public required int RegionHits { get; init; }

    public required double? RegionRecall { get; init; }

    public required int GoodImagesWithRegions { get; init; }

    /// <summary>Fraction of good images with at least one region.</summary>
    public required double? FalseRegionRate { get; init; }

    public required double? MeanRegionsPerGoodImage { get; init; }

    /// <summary>IoU of the union of region boxes with the mask, averaged over scored defective images (no region: 0).</summary>
    public required double? MeanRegionIou { get; init; }

    /// <summary>The scored defective images by kind (ordinal order): a method can point well at blowholes and poorly at cracks.</summary>
    public required IReadOnlyList<KindLocalisation> PerKind { get; init; }
}

/// <summary>Pointing hits, region hits and summed region IoU over one kind's scored defective images.</summary>
public sealed record KindLocalisation(string Kind, int Scored, int PointingHits, int RegionHits, double IouSum)
{
    public double PointingGame => (double)PointingHits / Scored;

    public double RegionRecall => (double)RegionHits / Scored;

    public double MeanRegionIou => IouSum / Scored;

    internal KindLocalisation With(bool pointingHit, bool regionHit, double iou) =>
        this with { Scored = Scored + 1, PointingHits = PointingHits + (pointingHit ? 1 : 0), RegionHits = RegionHits + (regionHit ? 1 : 0), IouSum = IouSum + iou };
}
