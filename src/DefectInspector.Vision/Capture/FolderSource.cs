using DefectInspector.Vision.Imaging;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// Inspects image files as they are dropped into a folder, oldest first, each once even across restarts: a file is
/// recorded as done only when <see cref="Complete"/> says its verdict was handed on, so a crash before that means
/// it is read again. Writers should write under a temporary name (.tmp, .part or a leading dot) and rename, or at
/// least never pause longer than one poll in mid-file, or a half-written file is taken and rejected as truncated.
/// </summary>
internal sealed class FolderSource : IFrameSource
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private const string RejectedFolder = "rejected";

    private readonly string folder;
    private readonly SourceSettings settings;
    private readonly ILogger logger;

    // Read runs on the capture loop, Complete wherever verdicts are handed on; this guards what both touch.
    private readonly Lock gate = new();
    private readonly HashSet<string> inFlight = new(StringComparer.Ordinal);

    // Files whose record could not be made (disk full, permissions): not offered again in this run, or the source
    // would spin on them; a restart tries them again.
    private readonly HashSet<string> unrecorded = new(StringComparer.Ordinal);
    private IFolderLedger? ledger;

    private readonly SettledFiles settled = new();
    private readonly Queue<string> ready = new();

    public FolderSource(string folder, SourceSettings settings, ILogger logger)
    {
        Description = $"folder:{folder}";
        this.folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        this.settings = settings;
        this.logger = logger;
    }

    public string Description { get; }

    public bool IsLive => false;

    public bool IsResumable => true;

    public void Open()
    {
        if (!Directory.Exists(folder))
            throw new FrameSourceException($"folder '{folder}' (source {Description}) does not exist; create it or correct the path");
        lock (gate)
            ledger ??= CreateLedger();
        ready.Clear();
        settled.Clear();
    }

    public SourceFrame? Read(CancellationToken cancellation)
    {
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            if (ready.Count == 0)
                Refill();
            if (ready.Count == 0)
            {
                Pause.For(PollInterval, cancellation);
                continue;
            }

            var frame = TryLoad(ready.Dequeue());
            if (frame is not null)
                return frame;
        }
    }

    public void Complete(SourceFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var name = frame.FrameRef;
        string? outcome = null;
        string? problem = null;
        lock (gate)
        {
            // Not ours, completed twice, or completed after Dispose: nothing to record, and the file (if any) is
            // still there to be processed after a restart.
            if (ledger is null || !inFlight.Contains(name))
                return;
            try
            {
                outcome = ledger.MarkProcessed(name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                unrecorded.Add(name);
                problem = e.Message;
            }
            finally
            {
                inFlight.Remove(name);
            }
        }

        if (problem is not null)
            logger.LogError("Folder {Folder}: {File} was processed but cannot be recorded as done ({Problem}); it will be processed again after a restart", folder, name, problem);
        else
            logger.LogDebug("Folder {Folder}: {File} {Outcome}", folder, name, outcome);
    }

    public void Dispose()
    {
        lock (gate)
        {
            ledger?.Dispose();
            ledger = null;
        }
    }

    private IFolderLedger CreateLedger() =>
        settings.ProcessedFolder is { } processed
            ? new MovingLedger(folder, processed, RejectedFolder)
            : FolderJournal.Open(folder, settings.StateDirectory);

    private void Refill()
    {
        var settled = this.settled.Poll(List());
        lock (gate)
        {
            var ledger = this.ledger ?? throw new FrameSourceException($"folder '{folder}': not open; open it first");
            var todo = settled
                .Where(f => !inFlight.Contains(f.Name) && !unrecorded.Contains(f.Name) && !ledger.IsDone(f.Name))
                .OrderBy(f => f.WrittenAt)
                .ThenBy(f => f.Name, StringComparer.Ordinal);
            foreach (var file in todo)
                ready.Enqueue(file.Name);
        }
    }

    private List<FolderEntry> List()
    {
        var entries = new List<FolderEntry>();
        try
        {
            foreach (var file in new DirectoryInfo(folder).EnumerateFiles())
            {
                if (!IsCandidate(file.Name))
                    continue;
                try
                {
                    entries.Add(new FolderEntry(file.Name, file.Length, file.LastWriteTimeUtc));
                }
                catch (FileNotFoundException)
                {
                    // Moved away between the listing and its size being read; the next poll will not list it.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FrameSourceException($"folder '{folder}': cannot be listed ({e.Message}); check that it still exists and is readable", e);
        }

        return entries;
    }

    // Temporary names (.tmp, .part, a download's partial file) never carry an image extension, so they fall out
    // here with every other non-image; hidden files are what editors and rsync write while they work.
    private static bool IsCandidate(string name) => !name.StartsWith('.') && ImageFormats.IsSupported(name);

    private SourceFrame? TryLoad(string name)
    {
        lock (gate)
            inFlight.Add(name);
        var path = Path.Combine(folder, name);
        try
        {
            return new SourceFrame(ImageReader.Read(path), name, DateTimeOffset.UtcNow);
        }
        catch (ImageReadException e)
        {
            lock (gate)
                inFlight.Remove(name);
            Reject(name, path, e.Message);
            return null;
        }
    }

    private void Reject(string name, string path, string reason)
    {
        if (!File.Exists(path))
        {
            logger.LogDebug("Folder {Folder}: {File} was removed before it could be read", folder, name);
            return;
        }

        string outcome;
        lock (gate)
        {
            try
            {
                outcome = ledger?.MarkRejected(name, reason) ?? "not recorded (the source was disposed)";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                unrecorded.Add(name);
                outcome = $"cannot be recorded as rejected ({e.Message}), so it is skipped until a restart";
            }
        }

        logger.LogWarning("Folder {Folder}: skipped {File}: {Reason}; {Outcome}", folder, name, reason, outcome);
    }
}
