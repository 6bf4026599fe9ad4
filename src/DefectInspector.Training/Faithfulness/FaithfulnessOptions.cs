namespace DefectInspector.Training.Faithfulness;

/// <summary>How a map's faithfulness is measured: the perturbation steps, ROAD's percentages and noise, and the batch size.</summary>
public sealed record FaithfulnessOptions
{
    /// <summary>Deletion and insertion take this many equal steps from none to every pixel (and score steps + 1 inputs each).</summary>
    public int Steps { get; init; } = 16;

    /// <summary>The shares of pixels ROAD removes, most relevant first and least relevant first (the paper's 10% to 90%).</summary>
    public IReadOnlyList<double> RoadFractions { get; init; } = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

    /// <summary>Standard deviation of the noise ROAD adds to imputed pixels, in the model's normalised input units (the paper's 0.01).</summary>
    public double RoadNoise { get; init; } = 0.01;

    /// <summary>Insertion starts from the input blurred with this Gaussian sigma, as a share of its longer side (RISE's blurred canvas).</summary>
    public double InsertionBlur { get; init; } = 0.05;

    /// <summary>Perturbed inputs scored in one batch.</summary>
    public int BatchSize { get; init; } = 8;

    public int Seed { get; init; }

    public void Validate()
    {
        if (Steps is < 2 or > 256) throw new ArgumentException($"faithfulness steps {Steps}: expected 2 to 256");
        if (RoadFractions.Count == 0 || RoadFractions.Any(f => f is <= 0 or >= 1))
            throw new ArgumentException($"ROAD fractions {string.Join(", ", RoadFractions)}: expected one or more shares in (0, 1)");
        if (RoadNoise is < 0 or > 1 || !double.IsFinite(RoadNoise)) throw new ArgumentException($"ROAD noise {RoadNoise}: expected 0 to 1");
        if (InsertionBlur is <= 0 or > 1) throw new ArgumentException($"insertion blur {InsertionBlur}: expected a share in (0, 1]");
        if (BatchSize < 1) throw new ArgumentException($"faithfulness batch size {BatchSize}: expected 1 or more");
    }
}
