namespace DefectInspector.Training.Faithfulness;

/// <summary>One point of a mean faithfulness curve: the share of pixels perturbed and the mean defect score there.</summary>
public sealed record FaithfulnessPoint(double Fraction, double Score);

/// <summary>
/// How faithful one method's maps were over the sampled defective images: areas under the mean deletion and insertion
/// curves, and ROAD's mean score over its fractions with the most relevant pixels removed first (MoRF; lower is more
/// faithful) and the least relevant first (LeRF; higher is more faithful), with the mean curves.
/// </summary>
public sealed record FaithfulnessSummary(
    string Method,
    int Images,
    double DeletionAuc,
    double InsertionAuc,
    double RoadMostRelevantFirst,
    double RoadLeastRelevantFirst,
    IReadOnlyList<FaithfulnessPoint> Deletion,
    IReadOnlyList<FaithfulnessPoint> Insertion,
    IReadOnlyList<FaithfulnessPoint> RoadMostRelevantFirstCurve,
    IReadOnlyList<FaithfulnessPoint> RoadLeastRelevantFirstCurve)
{
    /// <summary>LeRF minus MoRF: how much more the score falls without the pixels the map ranks first than without those it ranks last.</summary>
    public double RoadGap => RoadLeastRelevantFirst - RoadMostRelevantFirst;

    public static FaithfulnessSummary Of(string method, IReadOnlyList<ImageFaithfulness> images, FaithfulnessOptions options)
    {
        if (images.Count == 0) throw new ArgumentException("no images measured: expected one or more");
        var steps = Enumerable.Range(0, options.Steps + 1).Select(s => (double)s / options.Steps).ToList();
        var deletion = Mean(images.Select(i => i.Deletion));
        var insertion = Mean(images.Select(i => i.Insertion));
        var most = Mean(images.Select(i => i.RoadMostRelevantFirst));
        var least = Mean(images.Select(i => i.RoadLeastRelevantFirst));
        return new FaithfulnessSummary(method, images.Count,
            FaithfulnessProbe.Area(deletion), FaithfulnessProbe.Area(insertion), most.Average(), least.Average(),
            Points(steps, deletion), Points(steps, insertion), Points(options.RoadFractions, most), Points(options.RoadFractions, least));
    }

    private static double[] Mean(IEnumerable<double[]> curves)
    {
        var all = curves.ToList();
        return Enumerable.Range(0, all[0].Length).Select(k => all.Average(c => c[k])).ToArray();
    }

    private static List<FaithfulnessPoint> Points(IReadOnlyList<double> fractions, double[] scores) =>
        fractions.Select((f, k) => new FaithfulnessPoint(f, Math.Round(scores[k], 6))).ToList();
}
