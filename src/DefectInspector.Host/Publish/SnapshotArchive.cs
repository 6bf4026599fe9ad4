using System.Globalization;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Keeps the JPEG snapshots of NG and uncertain parts on disk, <c>&lt;folder&gt;/&lt;yyyy-MM-dd&gt;/&lt;camera&gt;/&lt;id&gt;.jpg</c>
/// (UTC decision date), for people who look into a reject later. Best effort: a snapshot that cannot be written is
/// logged and the line goes on; the verdict in the outbox is what counts. <see cref="Prune"/> drops days older than
/// the retention and then the oldest files until the archive is within its size cap.
/// </summary>
internal sealed class SnapshotArchive(string folder, TimeSpan retention, long maxBytes, TimeProvider time, ILogger logger)
{
    private const string DayFormat = "yyyy-MM-dd";
    private static readonly TimeSpan FailureLogInterval = TimeSpan.FromMinutes(1);

    private readonly Lock gate = new();
    private DateTimeOffset lastFailureLogged = DateTimeOffset.MinValue;
    private long failures;

    public string Folder { get; } = folder;

    public void Save(string camera, string id, DateTimeOffset decidedAt, ReadOnlyMemory<byte> jpeg)
    {
        string directory = Path.Combine(Folder, decidedAt.UtcDateTime.ToString(DayFormat, CultureInfo.InvariantCulture), camera);
        string path = Path.Combine(directory, id + ".jpg");
        try
        {
            Directory.CreateDirectory(directory);
            // Written aside and renamed, so a crash never leaves a truncated JPEG under a final name.
            string temp = Path.Combine(directory, $".{id}.tmp");
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
                file.Write(jpeg.Span);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            ReportFailure(path, e);
        }
    }

    /// <summary>Removes what is past retention or over the cap; returns the number of files removed.</summary>
    public int Prune()
    {
        if (!Directory.Exists(Folder)) return 0;
        int removed = 0;
        var oldestKept = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime - retention);
        var days = new List<(DateOnly Day, string Path)>();
        foreach (string dir in Directory.EnumerateDirectories(Folder))
        {
            if (DateOnly.TryParseExact(Path.GetFileName(dir), DayFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                days.Add((day, dir));
        }

        foreach (var (_, dir) in days.Where(d => d.Day < oldestKept))
            removed += TryDelete(dir);

        var files = days.Where(d => d.Day >= oldestKept)
            .SelectMany(d => new DirectoryInfo(d.Path).EnumerateFiles("*.jpg", SearchOption.AllDirectories))
            .OrderBy(f => f.LastWriteTimeUtc)
            .ToList();
        long total = files.Sum(f => f.Length);
        foreach (var file in files)
        {
            if (total <= maxBytes) break;
            total -= file.Length;
            removed += TryDelete(file.FullName);
        }

        if (removed > 0)
            logger.LogInformation("Snapshot archive {Folder}: removed {Count} snapshot(s) past {Days} days or over {CapMegabytes} MB", Folder, removed, retention.TotalDays, maxBytes / (1024 * 1024));
        return removed;
    }

    private int TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
                return 1;
            }
            int count = Directory.EnumerateFiles(path, "*.jpg", SearchOption.AllDirectories).Count();
            Directory.Delete(path, recursive: true);
            return count;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Snapshot archive: cannot remove {Path}: {Reason}", path, e.Message);
            return 0;
        }
    }

    private void ReportFailure(string path, Exception e)
    {
        long count = Interlocked.Increment(ref failures);
        var now = time.GetUtcNow();
        lock (gate)
        {
            if (now - lastFailureLogged < FailureLogInterval) return;
            lastFailureLogged = now;
        }
        logger.LogWarning("Snapshot archive: cannot write {Path} ({Reason}); {Count} snapshot(s) not archived since start. Verdicts are not affected", path, e.Message, count);
    }
}
