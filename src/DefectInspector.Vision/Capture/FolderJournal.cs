using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// Records done files in a journal under the state directory, one JSON line per file, and leaves the files where
/// they are. Each line is flushed to disk before the file counts as done, so a crash loses at most the file that
/// was being recorded, which is then simply processed again.
/// </summary>
internal sealed class FolderJournal : IFolderLedger
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly HashSet<string> done;
    private readonly FileStream stream;

    private FolderJournal(string path, HashSet<string> done, FileStream stream)
    {
        Path = path;
        this.done = done;
        this.stream = stream;
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>Opens (or starts) the journal of <paramref name="folder"/> and loads the names it holds.</summary>
    /// <exception cref="FrameSourceException">The state directory or the journal cannot be used.</exception>
    public static FolderJournal Open(string folder, string stateDirectory)
    {
        var path = PathFor(folder, stateDirectory);
        FileStream stream;
        try
        {
            Directory.CreateDirectory(stateDirectory);
            // Unshared (an exclusive lock on Linux): a second source appending to the same journal would
            // interleave lines and hand out the same files twice.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FrameSourceException($"folder '{folder}': its journal '{path}' cannot be opened ({e.Message}); check that StateDirectory is writable and that no other source watches this folder", e);
        }

        try
        {
            var done = Load(stream);
            var journal = new FolderJournal(path, done, stream);
            if (stream.Length == 0)
                journal.Append(new JournalHeader(folder));
            return journal;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>One journal per watched folder, named by a hash of its full path so any path makes a valid file name.</summary>
    public static string PathFor(string folder, string stateDirectory)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(folder));
        return System.IO.Path.Combine(stateDirectory, $"folder-{Convert.ToHexStringLower(hash)[..16]}.jsonl");
    }

    public bool IsDone(string name) => done.Contains(name);

    public string MarkProcessed(string name) => Mark(new JournalEntry(name, "processed", null, DateTimeOffset.UtcNow));

    public string MarkRejected(string name, string reason) => Mark(new JournalEntry(name, "rejected", reason, DateTimeOffset.UtcNow));

    public void Dispose() => stream.Dispose();

    private string Mark(JournalEntry entry)
    {
        Append(entry);
        done.Add(entry.File);
        return $"recorded as {entry.Outcome} in {Path}";
    }

    private void Append<T>(T line)
    {
        stream.Write(JsonSerializer.SerializeToUtf8Bytes(line, Json));
        stream.WriteByte((byte)'\n');
        // Through to the disk, not just the OS cache: after a power cut the journal must still hold this line.
        stream.Flush(flushToDisk: true);
    }

    private static HashSet<string> Load(FileStream stream)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        while (reader.ReadLine() is { } line)
        {
            if (ParseFile(line) is { } file)
                done.Add(file);
        }

        // A crash during an append can leave half a line; the next line must not be glued onto it.
        if (stream.Length > 0)
        {
            stream.Seek(-1, SeekOrigin.End);
            if (stream.ReadByte() != '\n')
                stream.WriteByte((byte)'\n');
        }

        stream.Seek(0, SeekOrigin.End);
        return done;
    }

    // A line that does not parse is the torn last line of a crash: its file was not recorded, so it is done again.
    private static string? ParseFile(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<JournalEntry>(line, Json)?.File;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record JournalHeader(string Folder);

    private sealed record JournalEntry(string File, string Outcome, string? Reason, DateTimeOffset At);
}
