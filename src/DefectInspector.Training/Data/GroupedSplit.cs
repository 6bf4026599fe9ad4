namespace DefectInspector.Training.Data;

/// <summary>
/// A seeded split that keeps every group whole on one side. It weighs candidate sets of validation groups by how
/// far their share is from the fraction and which kinds they leave out, and picks one of the nearly best by seed, so
/// that different seeds give different folds when several are as good.
/// </summary>
internal static class GroupedSplit
{
    // Up to 2^12 subsets are cheap to try all; beyond, seeded greedy fills around the target share are sampled.
    private const int ExhaustiveUpTo = 12;
    private const int Samples = 2048;

    // Training must see every kind; a kind missing from validation weighs as much as ten points of share.
    private const double MissingTrainKindCost = 1000;
    private const double MissingValidationKindCost = 0.1;
    private const double NearBest = 0.02;

    public static (List<LabelledImage> Train, List<LabelledImage> Validation) Split(IReadOnlyList<LabelledImage> pool, double fraction, SplitRandom random)
    {
        var kinds = pool.Select(i => i.Kind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var groups = pool.GroupBy(i => i.Group!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new GroupCounts(g.Key, kinds.Select(k => g.Count(i => i.Kind == k)).ToArray()))
            .ToList();
        if (groups.Count < 2)
            throw new DataProblemException($"a grouped split needs at least two groups; all {pool.Count} images are in group '{groups[0].Name}'");

        var candidates = groups.Count <= ExhaustiveUpTo ? AllSubsets(groups.Count) : Sampled(groups, fraction, random);
        var scored = candidates.Select(c => (Subset: c, Cost: Cost(c, groups, kinds.Count, pool.Count, fraction))).ToList();
        var best = scored.Min(s => s.Cost);
        var near = scored.Where(s => s.Cost <= best + NearBest).Select(s => s.Subset).ToList();
        var chosen = near[random.Below(near.Count)];

        var validationGroups = groups.Where((_, index) => chosen[index]).Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var train = pool.Where(i => !validationGroups.Contains(i.Group!)).ToList();
        var validation = pool.Where(i => validationGroups.Contains(i.Group!)).ToList();
        return (train, validation);
    }

    private sealed record GroupCounts(string Name, int[] PerKind)
    {
        public int Total => PerKind.Sum();
    }

    private static double Cost(bool[] inValidation, IReadOnlyList<GroupCounts> groups, int kinds, int total, double fraction)
    {
        var validation = new int[kinds];
        var all = new int[kinds];
        for (var g = 0; g < groups.Count; g++)
        {
            for (var k = 0; k < kinds; k++)
            {
                all[k] += groups[g].PerKind[k];
                if (inValidation[g])
                    validation[k] += groups[g].PerKind[k];
            }
        }

        var missingTrain = Enumerable.Range(0, kinds).Count(k => all[k] - validation[k] == 0);
        var missingValidation = Enumerable.Range(0, kinds).Count(k => validation[k] == 0);
        var share = (double)validation.Sum() / total;
        return MissingTrainKindCost * missingTrain + MissingValidationKindCost * missingValidation + Math.Abs(share - fraction);
    }

    /// <summary>Every set of validation groups that leaves both sides non-empty, in a fixed order.</summary>
    private static List<bool[]> AllSubsets(int count)
    {
        var subsets = new List<bool[]>();
        for (var mask = 1; mask < (1 << count) - 1; mask++)
            subsets.Add(Enumerable.Range(0, count).Select(g => (mask & (1 << g)) != 0).ToArray());
        return subsets;
    }

    /// <summary>For each seeded order of the groups, the sets just below and just above the target share.</summary>
    private static List<bool[]> Sampled(IReadOnlyList<GroupCounts> groups, double fraction, SplitRandom random)
    {
        var total = groups.Sum(g => g.Total);
        var target = fraction * total;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var subsets = new List<bool[]>();
        var order = Enumerable.Range(0, groups.Count).ToArray();
        for (var sample = 0; sample < Samples; sample++)
        {
            random.Shuffle(order);
            var subset = new bool[groups.Count];
            var taken = 0;
            foreach (var g in order.Take(groups.Count - 1))
            {
                if (taken > 0 && taken + groups[g].Total > target)
                    Add((bool[])subset.Clone());
                subset[g] = true;
                taken += groups[g].Total;
                if (taken >= target)
                    break;
            }

            Add(subset);
        }

        return subsets;

        void Add(bool[] subset)
        {
            if (seen.Add(new string(subset.Select(b => b ? '1' : '0').ToArray())))
                subsets.Add(subset);
        }
    }
}
