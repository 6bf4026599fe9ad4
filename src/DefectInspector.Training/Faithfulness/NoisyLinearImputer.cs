namespace DefectInspector.Training.Faithfulness;

/// <summary>
/// ROAD's noisy linear imputation (Rong et al., "A Consistent and Efficient Evaluation Strategy for Attribution
/// Methods", ICML 2022): each removed pixel becomes the weighted mean of its 8 neighbours (1/6 for the 4 direct ones,
/// 1/12 for the diagonals, renormalised at the border), solved jointly for all removed pixels with the kept ones fixed,
/// plus Gaussian noise. Unlike filling with a constant, the removed shape leaves no edge the model could read, so a
/// drop in score comes from the information removed. The paper solves the sparse system directly; here a cascade of
/// grids does (each level starts from the half-size solution, then relaxes), which takes about a second an image
/// where relaxing at full size alone would take minutes on large holes.
/// </summary>
public sealed class NoisyLinearImputer(double noise = 0.01, int seed = 0)
{
    public const double Tolerance = 1e-4;
    private const int CoarsestCells = 64;
    private const int SweepsPerLevel = 100;
    private const int SweepsAtCoarsest = 2000;
    private const double Relaxation = 1.5;

    private static readonly (int Dx, int Dy, double Weight)[] Neighbours =
    [
        (-1, -1, 1.0 / 12), (0, -1, 1.0 / 6), (1, -1, 1.0 / 12),
        (-1, 0, 1.0 / 6), (1, 0, 1.0 / 6),
        (-1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (1, 1, 1.0 / 12),
    ];

    private readonly Random random = new(seed);

    /// <summary>
    /// A copy of <paramref name="chw"/> (channels x <paramref name="height"/> x <paramref name="width"/>) with the
    /// pixels where <paramref name="removed"/> is true imputed in every channel.
    /// </summary>
    public float[] Impute(float[] chw, int width, int height, bool[] removed)
    {
        int plane = width * height;
        if (removed.Length != plane || chw.Length % plane != 0)
            throw new ArgumentException($"{chw.Length} values and a mask of {removed.Length} for {width}x{height}: expected channels x {plane} values and {plane} mask cells");
        var output = (float[])chw.Clone();
        var holes = Enumerable.Range(0, plane).Where(i => removed[i]).ToArray();
        if (holes.Length == 0) return output;
        if (holes.Length == plane)
            throw new ArgumentException("every pixel removed: imputation needs at least one kept pixel");

        for (int c = 0; c < chw.Length / plane; c++)
        {
            var values = new double[plane];
            for (int i = 0; i < plane; i++) values[i] = removed[i] ? 0 : chw[c * plane + i];
            Solve(values, removed, width, height);
            foreach (int i in holes) output[c * plane + i] = (float)(values[i] + noise * Gaussian());
        }
        return output;
    }

    /// <summary>Fills the removed cells of <paramref name="values"/> with the solution, from a half-size solution down.</summary>
    private static void Solve(double[] values, bool[] removed, int width, int height)
    {
        var holes = Enumerable.Range(0, values.Length).Where(i => removed[i]).ToArray();
        if (holes.Length == 0) return;
        bool coarsest = width * height <= CoarsestCells || width < 4 || height < 4;
        if (coarsest)
        {
            double mean = Enumerable.Range(0, values.Length).Where(i => !removed[i]).Average(i => values[i]);
            foreach (int i in holes) values[i] = mean;
        }
        else
        {
            // A coarse cell is kept when any of its four pixels is, with their mean.
            int cw = (width + 1) / 2, ch = (height + 1) / 2;
            var coarse = new double[cw * ch];
            var count = new int[cw * ch];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    if (!removed[y * width + x])
                    {
                        coarse[(y / 2) * cw + x / 2] += values[y * width + x];
                        count[(y / 2) * cw + x / 2]++;
                    }
            var coarseRemoved = new bool[cw * ch];
            for (int i = 0; i < coarse.Length; i++)
            {
                if (count[i] > 0) coarse[i] /= count[i];
                else coarseRemoved[i] = true;
            }
            Solve(coarse, coarseRemoved, cw, ch);
            foreach (int i in holes) values[i] = coarse[(i / width / 2) * cw + (i % width) / 2];
        }
        Relax(values, width, height, holes, coarsest ? SweepsAtCoarsest : SweepsPerLevel);
    }

    private static void Relax(double[] values, int width, int height, int[] holes, int sweeps)
    {
        for (int sweep = 0; sweep < sweeps; sweep++)
        {
            double largest = 0;
            foreach (int i in holes)
            {
                int x = i % width, y = i / width;
                double sum = 0, weights = 0;
                foreach (var (dx, dy, w) in Neighbours)
                {
                    int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
                    sum += w * values[ny * width + nx];
                    weights += w;
                }
                double change = sum / weights - values[i];
                values[i] += Relaxation * change;
                largest = Math.Max(largest, Math.Abs(change));
            }
            if (largest < Tolerance) return;
        }
    }

    private double Gaussian()
    {
        // Box-Muller: System.Random has no normal distribution.
        double u = 1.0 - random.NextDouble(), v = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }
}
