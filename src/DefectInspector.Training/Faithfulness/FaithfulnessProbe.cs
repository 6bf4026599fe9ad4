using DefectInspector.Core.Explain;
using DefectInspector.Core.Imaging;
using OpenCvSharp;

namespace DefectInspector.Training.Faithfulness;

/// <summary>One image's curves: the defect score as pixels are deleted, inserted, or removed by ROAD, in map order.</summary>
public sealed record ImageFaithfulness(double[] Deletion, double[] Insertion, double[] RoadMostRelevantFirst, double[] RoadLeastRelevantFirst);

/// <summary>
/// Measures how faithful a map is to the model it explains, by perturbing the model's input in the map's order and
/// watching the defect score (<paramref name="score"/>: one score per input, in one batch):
/// <list type="bullet">
/// <item>deletion (RISE, Petsiuk et al. 2018): the most relevant pixels first set to the normalised mean (0), in
/// <see cref="FaithfulnessOptions.Steps"/> steps; a faithful map makes the score fall fast (low area under the curve);</item>
/// <item>insertion: from a blurred input, the most relevant pixels first restored; the score should rise fast (high area);</item>
/// <item>ROAD (Rong et al. 2022): a share of the pixels removed by noisy linear imputation, most relevant first (MoRF:
/// the score should fall) and least relevant first (LeRF: it should stay), at each of
/// <see cref="FaithfulnessOptions.RoadFractions"/>.</item>
/// </list>
/// </summary>
public sealed class FaithfulnessProbe(Func<IReadOnlyList<InputImage>, float[]> score, FaithfulnessOptions options)
{
    public FaithfulnessOptions Options { get; } = Validated(options);

    public ImageFaithfulness Measure(InputImage input, FloatMap map)
    {
        int plane = input.Width * input.Height;
        int channels = input.Chw.Length / plane;
        var order = RelevanceOrder.MostRelevantFirst(map, input.Width, input.Height);
        var blurred = Blur(input, channels);

        var deletion = new List<InputImage>();
        var insertion = new List<InputImage>();
        for (int step = 0; step <= Options.Steps; step++)
        {
            int count = (int)Math.Round((double)plane * step / Options.Steps);
            deletion.Add(Replace(input, input.Chw, new float[input.Chw.Length], order, count, channels));
            insertion.Add(Replace(input, blurred, input.Chw, order, count, channels));
        }

        var imputer = new NoisyLinearImputer(Options.RoadNoise, Options.Seed);
        var most = new List<InputImage>();
        var least = new List<InputImage>();
        foreach (double fraction in Options.RoadFractions)
        {
            int count = (int)Math.Round(plane * fraction);
            most.Add(input with { Chw = imputer.Impute(input.Chw, input.Width, input.Height, Removed(order.AsSpan(0, count), plane)) });
            least.Add(input with { Chw = imputer.Impute(input.Chw, input.Width, input.Height, Removed(order.AsSpan(plane - count), plane)) });
        }

        var scores = Score([.. deletion, .. insertion, .. most, .. least]);
        int n = Options.Steps + 1, r = Options.RoadFractions.Count;
        return new ImageFaithfulness(scores[..n], scores[n..(2 * n)], scores[(2 * n)..(2 * n + r)], scores[(2 * n + r)..]);
    }

    /// <summary>The trapezoid area under a curve sampled at equal steps over [0, 1].</summary>
    public static double Area(IReadOnlyList<double> curve)
    {
        if (curve.Count < 2) throw new ArgumentException($"a curve of {curve.Count} points: expected 2 or more");
        double sum = 0;
        for (int i = 1; i < curve.Count; i++) sum += (curve[i - 1] + curve[i]) / 2;
        return sum / (curve.Count - 1);
    }

    private double[] Score(List<InputImage> inputs)
    {
        var scores = new double[inputs.Count];
        for (int start = 0; start < inputs.Count; start += Options.BatchSize)
        {
            var batch = inputs.GetRange(start, Math.Min(Options.BatchSize, inputs.Count - start));
            var batchScores = score(batch);
            if (batchScores.Length != batch.Count)
                throw new InvalidOperationException($"the scorer gave {batchScores.Length} scores for {batch.Count} inputs");
            for (int i = 0; i < batch.Count; i++) scores[start + i] = batchScores[i];
        }
        return scores;
    }

    /// <summary><paramref name="from"/> with its <paramref name="count"/> most relevant pixels taken from <paramref name="to"/>, in every channel.</summary>
    private static InputImage Replace(InputImage input, float[] from, float[] to, int[] order, int count, int channels)
    {
        var chw = (float[])from.Clone();
        int plane = input.Width * input.Height;
        for (int k = 0; k < count; k++)
            for (int c = 0; c < channels; c++)
                chw[c * plane + order[k]] = to[c * plane + order[k]];
        return input with { Chw = chw };
    }

    private static bool[] Removed(ReadOnlySpan<int> pixels, int plane)
    {
        var removed = new bool[plane];
        foreach (int p in pixels) removed[p] = true;
        return removed;
    }

    private float[] Blur(InputImage input, int channels)
    {
        int plane = input.Width * input.Height;
        var result = new float[input.Chw.Length];
        double sigma = Options.InsertionBlur * Math.Max(input.Width, input.Height);
        for (int c = 0; c < channels; c++)
        {
            var channel = input.Chw.AsSpan(c * plane, plane).ToArray();
            using var source = Mat.FromPixelData(input.Height, input.Width, MatType.CV_32FC1, channel);
            using var blurred = new Mat();
            Cv2.GaussianBlur(source, blurred, new Size(0, 0), sigma, sigma, BorderTypes.Reflect101);
            blurred.AsSpan<float>().CopyTo(result.AsSpan(c * plane, plane));
        }
        return result;
    }

    private static FaithfulnessOptions Validated(FaithfulnessOptions options)
    {
        options.Validate();
        return options;
    }
}
