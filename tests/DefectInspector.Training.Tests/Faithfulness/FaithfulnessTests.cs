using DefectInspector.Core.Explain;
using DefectInspector.Core.Imaging;
using DefectInspector.Training.Faithfulness;

namespace DefectInspector.Training.Tests.Faithfulness;

/// <summary>Deletion, insertion and ROAD against their definitions, on a scorer whose answer is known in closed form.</summary>
public sealed class FaithfulnessTests
{
    private const int Width = 40, Height = 30;
    // The "model": the defect score is the mean of channel 0 over this square, which the input holds at 1.
    private static readonly (int X, int Y, int Size) Defect = (8, 6, 8);

    [Fact]
    public void Noisy_linear_imputation_restores_a_linear_ramp_and_leaves_kept_pixels_alone()
    {
        var chw = new float[2 * Width * Height];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                chw[y * Width + x] = 0.02f * x - 0.01f * y;
                chw[Width * Height + y * Width + x] = 0.5f + 0.015f * y;
            }
        var random = new Random(3);
        // Inside the border: there the stencil is renormalised one-sided, and a ramp is no longer its own solution.
        var removed = Enumerable.Range(0, Width * Height)
            .Select(i => i % Width is > 0 and < Width - 1 && i / Width is > 0 and < Height - 1 && random.NextDouble() < 0.7).ToArray();

        var imputed = new NoisyLinearImputer(noise: 0).Impute(chw, Width, Height, removed);

        // A linear function is its own neighbours' weighted mean under a symmetric stencil: the exact solution.
        double worst = Enumerable.Range(0, chw.Length).Max(i => Math.Abs(imputed[i] - chw[i]));
        Assert.True(worst < 2e-3, $"largest error {worst}");
        Assert.All(Enumerable.Range(0, chw.Length).Where(i => !removed[i % (Width * Height)]), i => Assert.Equal(chw[i], imputed[i]));
    }

    [Fact]
    public void Imputation_noise_has_the_stated_spread()
    {
        var chw = new float[Width * Height];
        var removed = Enumerable.Range(0, Width * Height).Select(i => i % 2 == 0).ToArray();
        var imputed = new NoisyLinearImputer(noise: 0.01, seed: 5).Impute(chw, Width, Height, removed);
        var deviations = Enumerable.Range(0, chw.Length).Where(i => removed[i]).Select(i => (double)imputed[i]).ToList();
        double mean = deviations.Average();
        double sd = Math.Sqrt(deviations.Average(d => (d - mean) * (d - mean)));
        Assert.InRange(sd, 0.009, 0.011);
        Assert.InRange(mean, -0.0015, 0.0015);
    }

    [Fact]
    public void Area_is_the_trapezoid_over_equal_steps()
    {
        Assert.Equal(0.5, FaithfulnessProbe.Area([1, 0]), 12);
        Assert.Equal(1.0, FaithfulnessProbe.Area([1, 1, 1]), 12);
        Assert.Equal((0.5 * (1 + 0.5) + 0.5 * (0.5 + 0)) / 2, FaithfulnessProbe.Area([1, 0.5, 0]), 12);
    }

    [Fact]
    public void Deletion_steps_delete_the_hottest_pixels_first_and_end_at_the_mean_input()
    {
        var probe = new FaithfulnessProbe(Score, new FaithfulnessOptions { Steps = 4, BatchSize = 3 });
        var result = probe.Measure(Part(), OnTheDefect());
        Assert.Equal(1.0, result.Deletion[0], 6);
        // The square is 64 of 1200 pixels: the first quarter deleted takes all of it.
        Assert.Equal([1.0, 0, 0, 0, 0], result.Deletion.Select(d => Math.Round(d, 6)));
        Assert.Equal(1.0, result.Insertion[^1], 6);
        Assert.Equal(1.0, result.Insertion[1], 6);
    }

    [Fact]
    public void A_map_on_the_defect_scores_as_more_faithful_than_a_map_elsewhere()
    {
        var options = new FaithfulnessOptions { Steps = 20 };
        var probe = new FaithfulnessProbe(Score, options);
        var onDefect = FaithfulnessSummary.Of("on", [probe.Measure(Part(), OnTheDefect())], options);
        var elsewhere = FaithfulnessSummary.Of("elsewhere", [probe.Measure(Part(), AwayFromTheDefect())], options);

        Assert.True(onDefect.DeletionAuc < 0.1, $"deletion AUC {onDefect.DeletionAuc}");
        Assert.True(elsewhere.DeletionAuc > 0.8, $"deletion AUC {elsewhere.DeletionAuc}");
        Assert.True(onDefect.InsertionAuc > elsewhere.InsertionAuc + 0.3, $"insertion {onDefect.InsertionAuc} against {elsewhere.InsertionAuc}");
        Assert.True(onDefect.RoadMostRelevantFirst < 0.1, $"ROAD MoRF {onDefect.RoadMostRelevantFirst}");
        Assert.True(elsewhere.RoadMostRelevantFirst > 0.5, $"ROAD MoRF {elsewhere.RoadMostRelevantFirst}");
        Assert.True(onDefect.RoadLeastRelevantFirst > 0.9, $"ROAD LeRF {onDefect.RoadLeastRelevantFirst}");
        Assert.Equal(options.RoadFractions, onDefect.RoadMostRelevantFirstCurve.Select(p => p.Fraction));
    }

    private static float[] Score(IReadOnlyList<InputImage> inputs) =>
        inputs.Select(input =>
        {
            double sum = 0;
            for (int y = Defect.Y; y < Defect.Y + Defect.Size; y++)
                for (int x = Defect.X; x < Defect.X + Defect.Size; x++)
                    sum += input.Chw[y * Width + x];
            return (float)(sum / (Defect.Size * Defect.Size));
        }).ToArray();

    private static InputImage Part()
    {
        var chw = new float[3 * Width * Height];
        for (int y = Defect.Y; y < Defect.Y + Defect.Size; y++)
            for (int x = Defect.X; x < Defect.X + Defect.Size; x++)
                chw[y * Width + x] = 1;
        return new InputImage(chw, Width, Height, Width, Height);
    }

    /// <summary>A map at input resolution, hot on the square (with a slope elsewhere so the order is total).</summary>
    private static FloatMap OnTheDefect() => Map((x, y) => InSquare(x, y) ? 10 : -0.001f * (y * Width + x));

    private static FloatMap AwayFromTheDefect() => Map((x, y) => InSquare(x, y) ? -10 : 0.001f * (y * Width + x));

    private static bool InSquare(int x, int y) => x >= Defect.X && x < Defect.X + Defect.Size && y >= Defect.Y && y < Defect.Y + Defect.Size;

    private static FloatMap Map(Func<int, int, float> heat)
    {
        var values = new float[Width * Height];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                values[y * Width + x] = heat(x, y);
        return new FloatMap(Width, Height, values);
    }
}
