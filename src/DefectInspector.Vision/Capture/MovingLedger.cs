namespace DefectInspector.Vision.Capture;

/// <summary>
/// Records a file as done by moving it out of the watched folder: processed files into one subfolder, rejected ones
/// into another, each beside a <c>.reason.txt</c> saying why. What is left in the folder is exactly what is still to
/// do, which an operator can see at a glance.
/// </summary>
internal sealed class MovingLedger(string folder, string processedFolder, string rejectedFolder) : IFolderLedger
{
    public const string ReasonSuffix = ".reason.txt";

    // A moved file is no longer listed, so the folder itself is the record.
    public bool IsDone(string name) => false;

    public string MarkProcessed(string name) => $"moved to {Move(name, processedFolder)}";

    // The folder is the only record here (the journal keeps its reasons), so the reason goes with the file to whoever
    // looks into rejected/ long after the log has rotated.
    public string MarkRejected(string name, string reason)
    {
        var destination = Move(name, rejectedFolder);
        File.WriteAllText(destination + ReasonSuffix, reason + Environment.NewLine);
        return $"moved to {destination}";
    }

    public void Dispose()
    {
    }

    private string Move(string name, string subfolder)
    {
        var target = Path.Combine(folder, subfolder);
        Directory.CreateDirectory(target);
        var destination = FreePath(target, name);
        File.Move(Path.Combine(folder, name), destination);
        return destination;
    }

    // Cameras often restart their numbering after a reboot; a name seen before must not overwrite the earlier file.
    private static string FreePath(string target, string name)
    {
        var path = Path.Combine(target, name);
        var stem = Path.GetFileNameWithoutExtension(name);
        var extension = Path.GetExtension(name);
        for (var n = 1; File.Exists(path); n++)
            path = Path.Combine(target, $"{stem}-{n}{extension}");
        return path;
    }
}
