namespace DefectInspector.Vision.Capture;

/// <summary>A file as one poll of a folder saw it.</summary>
internal readonly record struct FolderEntry(string Name, long Length, DateTime WrittenAt);

/// <summary>
/// Tells which files have stopped changing: those with the same size and write time at two polls in a row. A file
/// that a camera or a copy is still writing grows between polls and is left for later.
/// </summary>
internal sealed class SettledFiles
{
    private Dictionary<string, FolderEntry> lastPoll = new(StringComparer.Ordinal);

    /// <summary>Takes this poll's listing and returns the files that have not changed since the previous one.</summary>
    public List<FolderEntry> Poll(IReadOnlyList<FolderEntry> files)
    {
        var thisPoll = new Dictionary<string, FolderEntry>(files.Count, StringComparer.Ordinal);
        var settled = new List<FolderEntry>();
        foreach (var file in files)
        {
            thisPoll[file.Name] = file;
            if (lastPoll.TryGetValue(file.Name, out var before) && before == file)
                settled.Add(file);
        }

        lastPoll = thisPoll;
        return settled;
    }

    public void Clear() => lastPoll.Clear();
}
