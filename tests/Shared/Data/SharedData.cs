namespace DefectInspector.Tests.Shared;

/// <summary>The read-only datasets beside the repository (../shared), which CI provides and a laptop may not.</summary>
internal static class SharedData
{
    public static string? MagneticTile => Find(Path.Combine("shared", "datasets", "magnetic-tile"));

    private static string? Find(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate))
                return candidate;
        }

        return null;
    }
}

/// <summary>A fact that is skipped, saying why, when ../shared/datasets/magnetic-tile is absent.</summary>
public sealed class MagneticTileFactAttribute : FactAttribute
{
    public MagneticTileFactAttribute()
    {
        if (SharedData.MagneticTile is null)
            Skip = "../shared/datasets/magnetic-tile is absent (looked in every folder above the test binaries): the real-data checks need the shared dataset beside the repository";
    }
}
