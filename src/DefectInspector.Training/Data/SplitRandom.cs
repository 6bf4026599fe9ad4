namespace DefectInspector.Training.Data;

/// <summary>
/// SplitMix64. System.Random's seeded sequence is not promised to stay the same across .NET versions, and a split
/// recorded in a model's provenance must be reproducible by any later build.
/// </summary>
internal sealed class SplitRandom(int seed)
{
    private ulong state = unchecked((ulong)(long)seed);

    public ulong Next()
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, <paramref name="count"/>); the modulo bias is negligible for list-sized counts.</summary>
    public int Below(int count) => (int)(Next() % (ulong)count);

    /// <summary>Fisher-Yates, in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = Below(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
