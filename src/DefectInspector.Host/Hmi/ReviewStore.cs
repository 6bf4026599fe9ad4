using System.Globalization;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// The review station's memory (SQLite <c>review.db</c>, WAL, synchronous=FULL, under Storage:Path/review): flagged
/// parts with their images, operators' decisions and the audit trail. A decision is durable here before the operator
/// sees it accepted; <see cref="ReviewExporter"/> then takes it to MQTT and the feedback folder, also after a restart.
/// A damaged database is moved aside and an empty one started (<see cref="SqliteStore"/>), as the outbox does.
/// </summary>
/// <remarks>One connection under one lock, as the outbox: every statement is short, and SQLite's connection is not
/// safe for concurrent use.</remarks>
internal sealed class ReviewStore : IDisposable
{
    public const string FolderName = "review";

    private readonly SqliteConnection db;
    private readonly string parts;
    private readonly int maxQueued;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private int queued;

    private ReviewStore(SqliteConnection db, string parts, int maxQueued, ILogger logger, TimeProvider time)
    {
        this.db = db;
        this.parts = parts;
        this.maxQueued = maxQueued;
        this.logger = logger;
        this.time = time;
        queued = Convert.ToInt32(Scalar("SELECT COUNT(*) FROM parts WHERE state = 'queued'", []), CultureInfo.InvariantCulture);
        RemoveOrphans();
    }

    /// <summary>The queue, a decision, or an export changed; raised outside the lock.</summary>
    public event Action<ReviewChange>? Changed;

    public int QueueLength => Volatile.Read(ref queued);

    public static ReviewStore Open(string folder, int maxQueued, ILogger logger, TimeProvider? time = null)
    {
        folder = Path.GetFullPath(folder);
        string parts = Directory.CreateDirectory(Path.Combine(folder, "parts")).FullName;
        time ??= TimeProvider.System;
        var db = SqliteStore.Open(Path.Combine(folder, "review.db"), "Review store",
            "the parts it queued and the decisions not yet exported are lost, their images removed", CreateSchema, logger, time);
        try
        {
            return new ReviewStore(db, parts, maxQueued, logger, time);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    private static void CreateSchema(SqliteConnection db)
    {
        using var schema = db.CreateCommand();
        schema.CommandText = """
            CREATE TABLE IF NOT EXISTS parts (
                id TEXT PRIMARY KEY,
                camera TEXT NOT NULL,
                verdict TEXT NOT NULL,
                decided_at INTEGER NOT NULL,
                state TEXT NOT NULL,
                message TEXT NOT NULL,
                good_class TEXT NOT NULL,
                image_file TEXT NOT NULL,
                overlay_file TEXT);
            CREATE INDEX IF NOT EXISTS parts_by_state ON parts (state, decided_at);
            CREATE TABLE IF NOT EXISTS reviews (
                id TEXT PRIMARY KEY,
                part TEXT NOT NULL UNIQUE REFERENCES parts (id),
                disposition TEXT NOT NULL,
                label TEXT NOT NULL,
                comment TEXT,
                user TEXT NOT NULL,
                reviewed_at INTEGER NOT NULL,
                exported INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS reviews_unexported ON reviews (exported, reviewed_at);
            CREATE TABLE IF NOT EXISTS audit (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                user TEXT NOT NULL,
                action TEXT NOT NULL,
                part TEXT,
                detail TEXT,
                model TEXT);
            """;
        schema.ExecuteNonQuery();
    }

    /// <summary>
    /// Queues a flagged part: image files first (fsynced), then the row, so a row never points at a missing file. A
    /// part already known (a folder file inspected again after a crash, under its old id) is left as it is.
    /// </summary>
    public void Add(FlaggedPart part)
    {
        try
        {
            Store(part);
        }
        catch (SqliteException e)
        {
            throw new IOException($"review store: cannot store part {part.Verdict.Id} ({part.Verdict.Camera}, {part.Verdict.FrameRef}): {e.Message}", e);
        }
    }

    private void Store(FlaggedPart part)
    {
        var verdict = part.Verdict;
        string image = Path.Combine(parts, verdict.Id + ".png");
        string? overlay = part.Overlay is null ? null : Path.Combine(parts, verdict.Id + ".jpg");
        List<string> expired;
        lock (gate)
        {
            if (Scalar("SELECT 1 FROM parts WHERE id = $id", [("$id", verdict.Id)]) is not null) return;
            WriteDurably(image, part.Png);
            if (overlay is not null) WriteDurably(overlay, part.Overlay!);
            Run("""
                INSERT INTO parts (id, camera, verdict, decided_at, state, message, good_class, image_file, overlay_file)
                VALUES ($id, $camera, $verdict, $decided, 'queued', $message, $good, $image, $overlay)
                """,
                ("$id", verdict.Id), ("$camera", verdict.Camera), ("$verdict", verdict.Verdict), ("$decided", verdict.DecidedAt.ToUnixTimeMilliseconds()),
                ("$message", System.Text.Encoding.UTF8.GetString(MessageJson.Serialize(verdict))), ("$good", part.GoodClass), ("$image", image), ("$overlay", overlay));
            queued++;
            expired = ExpireBeyondCap();
        }
        Changed?.Invoke(new ReviewChange(ReviewChange.Flagged, verdict.Id));
        foreach (string id in expired) Changed?.Invoke(new ReviewChange(ReviewChange.Expired, id));
    }

    /// <summary>Queued parts, newest first.</summary>
    public IReadOnlyList<StoredPart> Queue(int limit) =>
        Parts("WHERE p.state = 'queued' ORDER BY p.decided_at DESC LIMIT $limit", [("$limit", limit)]);

    public StoredPart? Find(string id) => Parts("WHERE p.id = $id", [("$id", id)]).SingleOrDefault();

    /// <summary>Reviewed parts matching <paramref name="query"/>, newest decision first.</summary>
    public IReadOnlyList<StoredPart> History(HistoryQuery query)
    {
        var where = new List<string> { "p.state = 'reviewed'" };
        var args = new List<(string, object?)> { ("$limit", Math.Clamp(query.Limit, 1, 1000)) };
        if (query.From is { } from) { where.Add("p.decided_at >= $from"); args.Add(("$from", from.ToUnixTimeMilliseconds())); }
        if (query.To is { } to) { where.Add("p.decided_at <= $to"); args.Add(("$to", to.ToUnixTimeMilliseconds())); }
        if (query.Camera is { Length: > 0 } camera) { where.Add("p.camera = $camera"); args.Add(("$camera", camera)); }
        if (query.Verdict is { Length: > 0 } verdict) { where.Add("p.verdict = $verdict"); args.Add(("$verdict", verdict)); }
        if (query.Disposition is { Length: > 0 } disposition) { where.Add("r.disposition = $disposition"); args.Add(("$disposition", disposition)); }
        return Parts($"WHERE {string.Join(" AND ", where)} ORDER BY p.decided_at DESC LIMIT $limit", args);
    }

    /// <summary>
    /// Records a decision with its audit line in one transaction and returns the part as it now stands. Throws
    /// <see cref="ReviewRefusedException"/> when the part is unknown, was reviewed already (saying by whom) or left the queue.
    /// </summary>
    public StoredPart Decide(string partId, string disposition, string? comment, string user)
    {
        var now = time.GetUtcNow();
        StoredPart decided;
        lock (gate)
        {
            var part = Parts("WHERE p.id = $id", [("$id", partId)]).SingleOrDefault()
                ?? throw new ReviewRefusedException($"part {partId} is not in the review store", notFound: true);
            if (part.Review is { } earlier)
                throw new ReviewRefusedException($"part {partId} was reviewed already: {earlier.Disposition} by {earlier.User} at {earlier.ReviewedAt:yyyy-MM-dd HH:mm:ss}Z");
            if (part.State == PartStates.Expired)
                throw new ReviewRefusedException($"part {partId} left the review queue unreviewed (the queue holds Hmi:MaxQueuedParts parts)");
            var record = new ReviewRecord(Guid.CreateVersion7(now).ToString(), partId, disposition, LabelFor(part, disposition), comment, user, now, Exported: false);
            Run("BEGIN IMMEDIATE");
            try
            {
                Run("INSERT INTO reviews (id, part, disposition, label, comment, user, reviewed_at, exported) VALUES ($id, $part, $disposition, $label, $comment, $user, $at, 0)",
                    ("$id", record.Id), ("$part", partId), ("$disposition", disposition), ("$label", record.Label), ("$comment", comment), ("$user", user), ("$at", now.ToUnixTimeMilliseconds()));
                Run("UPDATE parts SET state = 'reviewed' WHERE id = $id", ("$id", partId));
                InsertAudit(now, user, "disposition", partId, comment is null ? disposition : $"{disposition}: {comment}", Describe(part.Verdict.Model));
                Run("COMMIT");
            }
            catch
            {
                Run("ROLLBACK");
                throw;
            }
            queued--;
            decided = part with { State = PartStates.Reviewed, Review = record };
        }
        Changed?.Invoke(new ReviewChange(ReviewChange.Reviewed, partId));
        return decided;
    }

    /// <summary>Decisions not yet in the outbox and the feedback folder, oldest first.</summary>
    public IReadOnlyList<StoredPart> Unexported() =>
        Parts("WHERE r.exported = 0 ORDER BY r.reviewed_at LIMIT 100", []);

    /// <summary>The decision is in the outbox and its files in the feedback folder, at <paramref name="image"/> and <paramref name="overlay"/>.</summary>
    public void Exported(string reviewId, string partId, string image, string? overlay)
    {
        lock (gate)
        {
            Run("BEGIN IMMEDIATE");
            Run("UPDATE parts SET image_file = $image, overlay_file = $overlay WHERE id = $id", ("$image", image), ("$overlay", overlay), ("$id", partId));
            Run("UPDATE reviews SET exported = 1 WHERE id = $id", ("$id", reviewId));
            Run("COMMIT");
        }
    }

    public void Audit(string user, string action, string? part = null, string? detail = null, string? model = null)
    {
        lock (gate) InsertAudit(time.GetUtcNow(), user, action, part, detail, model);
    }

    /// <summary>The latest <paramref name="limit"/> audit lines, newest first.</summary>
    public IReadOnlyList<AuditEntry> AuditTrail(int limit)
    {
        lock (gate)
        {
            using var command = Command("SELECT at, user, action, part, detail, model FROM audit ORDER BY seq DESC LIMIT $limit", [("$limit", limit)]);
            using var reader = command.ExecuteReader();
            var entries = new List<AuditEntry>();
            while (reader.Read())
                entries.Add(new AuditEntry(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
            return entries;
        }
    }

    public void Dispose()
    {
        lock (gate) db.Dispose();
    }

    public static string Describe(ModelReference model) => $"{model.Name} {model.Version} ({model.Sha256[..12]})";

    /// <summary>A false reject is the good class; a confirmed or reworked defect the most probable defect class.</summary>
    private static string LabelFor(StoredPart part, string disposition) =>
        disposition == Dispositions.FalseReject ? part.GoodClass
        : (part.Verdict.Probabilities ?? new Dictionary<string, double>()).Where(p => p.Key != part.GoodClass).OrderByDescending(p => p.Value).Select(p => p.Key).FirstOrDefault()
          ?? part.Verdict.PredictedClass ?? part.GoodClass;

    private List<string> ExpireBeyondCap()
    {
        var expired = new List<string>();
        if (queued <= maxQueued) return expired;
        using (var command = Command("SELECT id, image_file, overlay_file FROM parts WHERE state = 'queued' ORDER BY decided_at LIMIT $n", [("$n", queued - maxQueued)]))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                expired.Add(reader.GetString(0));
                File.Delete(reader.GetString(1));
                if (!reader.IsDBNull(2)) File.Delete(reader.GetString(2));
            }
        }
        foreach (string id in expired)
            Run("UPDATE parts SET state = 'expired' WHERE id = $id", ("$id", id));
        queued -= expired.Count;
        logger.LogWarning("Review queue over Hmi:MaxQueuedParts ({Max}): {Count} oldest unreviewed part(s) left the queue (their verdicts were delivered)", maxQueued, expired.Count);
        return expired;
    }

    /// <summary>Image files whose row never got written (the daemon died in between) are dropped at start.</summary>
    private void RemoveOrphans()
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        using (var command = Command("SELECT image_file, overlay_file FROM parts WHERE state = 'queued' OR (state = 'reviewed' AND id IN (SELECT part FROM reviews WHERE exported = 0))", []))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                known.Add(reader.GetString(0));
                if (!reader.IsDBNull(1)) known.Add(reader.GetString(1));
            }
        }
        foreach (string file in Directory.EnumerateFiles(parts).Where(f => !known.Contains(f)).ToList())
            File.Delete(file);
    }

    private List<StoredPart> Parts(string clause, IEnumerable<(string, object?)> args)
    {
        lock (gate)
        {
            using var command = Command($"""
                SELECT p.message, p.good_class, p.state, p.image_file, p.overlay_file,
                       r.id, r.disposition, r.label, r.comment, r.user, r.reviewed_at, r.exported
                FROM parts p LEFT JOIN reviews r ON r.part = p.id {clause}
                """, args);
            using var reader = command.ExecuteReader();
            var found = new List<StoredPart>();
            while (reader.Read())
            {
                var verdict = MessageJson.Deserialize<VerdictMessage>(System.Text.Encoding.UTF8.GetBytes(reader.GetString(0)));
                var review = reader.IsDBNull(5) ? null : new ReviewRecord(reader.GetString(5), verdict.Id, reader.GetString(6), reader.GetString(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetString(9), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)), reader.GetInt64(11) != 0);
                found.Add(new StoredPart(verdict, reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), review));
            }
            return found;
        }
    }

    private void InsertAudit(DateTimeOffset at, string user, string action, string? part, string? detail, string? model) =>
        Run("INSERT INTO audit (at, user, action, part, detail, model) VALUES ($at, $user, $action, $part, $detail, $model)",
            ("$at", at.ToUnixTimeMilliseconds()), ("$user", user), ("$action", action), ("$part", part), ("$detail", detail), ("$model", model));

    private static void WriteDurably(string path, byte[] bytes)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        file.Write(bytes);
        file.Flush(flushToDisk: true);
    }

    private object? Scalar(string sql, IEnumerable<(string, object?)> args)
    {
        using var command = Command(sql, args);
        return command.ExecuteScalar();
    }

    private void Run(string sql, params (string, object?)[] args)
    {
        using var command = Command(sql, args);
        command.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, IEnumerable<(string Name, object? Value)> args)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in args) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
