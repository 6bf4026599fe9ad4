namespace DefectInspector.Vision.Capture;

/// <summary>Where a folder source keeps track of the files it is done with, so that a restart does not redo them.</summary>
internal interface IFolderLedger : IDisposable
{
    /// <summary>True when <paramref name="name"/> was processed or rejected before, in this run or an earlier one.</summary>
    bool IsDone(string name);

    /// <summary>Records the file as processed; returns what was done, for the log.</summary>
    /// <exception cref="IOException">The record could not be made (disk full, permissions, the file vanished).</exception>
    string MarkProcessed(string name);

    /// <summary>Records the file as unusable; returns what was done, for the log.</summary>
    /// <exception cref="IOException">The record could not be made.</exception>
    string MarkRejected(string name, string reason);
}
