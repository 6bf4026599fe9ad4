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

    private readonly string _folder;
    private readonly SourceSettings _settings;
    private readonly ILogger _logger;

    // Read runs on the capture loop, Complete wherever verdicts are handed on; this guards what both touch.
    private readonly Lock _gate = new();
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);

    // Files whose record could not be made (disk full, permissions): not offered again in this run, or the source
    // would spin on them; a restart tries them again.
    private readonly HashSet<string> _unrecorded = new(StringComparer.Ordinal);
    private IFolderLedger? _ledger;

    private readonly SettledFiles _settled = new();
    private readonly Queue<string> _ready = new();

    public FolderSource(string folder, SourceSettings settings, ILogger logger)
    {
        Description = $"folder:{folder}";
        _folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        _settings = settings;
        _logger = logger;
    }

    public string Description { get; }

    public bool IsLive => false;

    public bool IsResumable => true;

    public void Open()
    {
        if (!Directory.Exists(_folder))
            throw new FrameSourceException($"folder '{_folder}' (source {Description}) does not exist; create it or correct the path");
        lock (_gate)
            _ledger ??= CreateLedger();
        _ready.Clear();
        _settled.Clear();
    }

    public SourceFrame? Read(CancellationToken cancellation)
    {
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            if (_ready.Count == 0)
                Refill();
            if (_ready.Count == 0)
            {
                Pause.For(PollInterval, cancellation);
                continue;
            }

            var frame = TryLoad(_ready.Dequeue());
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
        lock (_gate)
        {
            // Not ours, completed twice, or completed after Dispose: nothing to record, and the file (if any) is
            // still there to be processed after a restart.
            if (_ledger is null || !_inFlight.Contains(name))
                return;
            try
            {
                outcome = _ledger.MarkProcessed(name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _unrecorded.Add(name);
                problem = e.Message;
            }
            finally
            {
                _inFlight.Remove(name);
            }
        }

        if (problem is not null)
            _logger.LogError("Folder {Folder}: {File} was processed but cannot be recorded as done ({Problem}); it will be processed again after a restart", _folder, name, problem);
        else
            _logger.LogDebug("Folder {Folder}: {File} {Outcome}", _folder, name, outcome);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _ledger?.Dispose();
            _ledger = null;
        }
    }

    private IFolderLedger CreateLedger() =>
        _settings.ProcessedFolder is { } processed
            ? new MovingLedger(_folder, processed, RejectedFolder)
            : FolderJournal.Open(_folder, _settings.StateDirectory);

    private void Refill()
    {
        var settled = _settled.Poll(List());
        lock (_gate)
        {
            var ledger = _ledger ?? throw new FrameSourceException($"folder '{_folder}': not open; open it first");
            var todo = settled
                .Where(f => !_inFlight.Contains(f.Name) && !_unrecorded.Contains(f.Name) && !ledger.IsDone(f.Name))
                .OrderBy(f => f.WrittenAt)
                .ThenBy(f => f.Name, StringComparer.Ordinal);
            foreach (var file in todo)
                _ready.Enqueue(file.Name);
        }
    }

    private List<FolderEntry> List()
    {
        var entries = new List<FolderEntry>();
        try
        {
            foreach (var file in new DirectoryInfo(_folder).EnumerateFiles())
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
            throw new FrameSourceException($"folder '{_folder}': cannot be listed ({e.Message}); check that it still exists and is readable", e);
        }

        return entries;
    }

    // Temporary names (.tmp, .part, a download's partial file) never carry an image extension, so they fall out
    // here with every other non-image; hidden files are what editors and rsync write while they work.
    private static bool IsCandidate(string name) => !name.StartsWith('.') && ImageFormats.IsSupported(name);

    private SourceFrame? TryLoad(string name)
    {
        lock (_gate)
            _inFlight.Add(name);
        var path = Path.Combine(_folder, name);
        try
        {
            return new SourceFrame(ImageReader.Read(path), name, DateTimeOffset.UtcNow);
        }
        catch (ImageReadException e)
        {
            lock (_gate)
                _inFlight.Remove(name);
            Reject(name, path, e.Message);
            return null;
        }
    }

    private void Reject(string name, string path, string reason)
    {
        if (!File.Exists(path))
        {
            _logger.LogDebug("Folder {Folder}: {File} was removed before it could be read", _folder, name);
            return;
        }

        string outcome;
        lock (_gate)
        {
            try
            {
                outcome = _ledger?.MarkRejected(name, reason) ?? "not recorded (the source was disposed)";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _unrecorded.Add(name);
                outcome = $"cannot be recorded as rejected ({e.Message}), so it is skipped until a restart";
            }
        }

        _logger.LogWarning("Folder {Folder}: skipped {File}: {Reason}; {Outcome}", _folder, name, reason, outcome);
    }
}
