using System.Globalization;
using System.Threading.Channels;
using DefectInspector.Publish.Contracts;
using DefectInspector.Publish.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Publish.Outbox;

/// <summary>
/// The durable outbox: every verdict, event and snapshot is stored here (SQLite, WAL, synchronous=FULL) before its
/// frame counts as done, and removed only once the broker has acknowledged it. A frame's messages are stored in one
/// transaction, all or none; their sequence numbers give the order they are published in, also after a restart.
/// </summary>
/// <remarks>
/// <para>Snapshots are stored in the database with the rest: one file to fsync, back up and reason about, and a
/// frame's messages stay all-or-nothing without a second store to keep in step.</para>
/// <para>Size cap: messages are counted by payload, topic and headers plus a fixed overhead per row. When an append
/// would exceed the cap, the oldest routine (OK) frames are dropped first, whole, counted and logged as a warning.
/// Critical (NG, uncertain) frames are never dropped: when they alone fill the cap they are still stored, new routine
/// frames are refused (counted, logged), and <see cref="AlarmCodes.OutboxOverCap"/> is raised until delivery brings
/// the outbox back under the cap. The hard limit is then the disk: a full disk fails the append
/// (<see cref="OutboxWriteException"/>, <see cref="AlarmCodes.StorageFull"/>) and the caller waits.</para>
/// <para>All access goes through one connection under one lock: appends and removals are short, and SQLite's
/// connection is not safe for concurrent use.</para>
/// </remarks>
public sealed class SqliteOutbox : IDisposable
{
    public const string FileName = "outbox.db";

    private const int SqliteFull = 13;

    // Counted per row beside payload and strings, so that a cap also holds for many small messages.
    private const long RowOverhead = 64;

    private static readonly TimeSpan DropWarningInterval = TimeSpan.FromMinutes(1);

    // A pending frame whose source never came back for it (its file was moved just before a crash) is forgotten
    // after this long, so a later file of the same name is not given an old id.
    private static readonly TimeSpan PendingKeptFor = TimeSpan.FromDays(7);

    private readonly SqliteConnection db;
    private readonly string path;
    private readonly long maxBytes;
    private readonly IAlarmSink alarms;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private readonly Channel<bool> appended = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private long count;
    private long bytes;
    private long lastFrame;
    private long dropped;
    private long droppedUnreported;
    private DateTimeOffset lastDropWarning = DateTimeOffset.MinValue;
    private bool overCap;
    private string? failing;
    private bool disposed;

    private SqliteOutbox(SqliteConnection db, string path, long maxBytes, IAlarmSink alarms, ILogger logger, TimeProvider time)
    {
        this.db = db;
        this.path = path;
        this.maxBytes = maxBytes;
        this.alarms = alarms;
        this.logger = logger;
        this.time = time;
        using (var command = Command("SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(MAX(frame), 0) FROM messages"))
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            count = reader.GetInt64(0);
            bytes = reader.GetInt64(1);
            lastFrame = reader.GetInt64(2);
        }

        using (var prune = Command("DELETE FROM pending WHERE stored_at < $before"))
        {
            prune.Parameters.AddWithValue("$before", (this.time.GetUtcNow() - PendingKeptFor).ToUnixTimeMilliseconds());
            prune.ExecuteNonQuery();
        }

        UpdateOverCap();
    }

    /// <summary>Messages waiting for the broker's acknowledgement.</summary>
    public long Depth
    {
        get
        {
            lock (gate)
            {
                return count;
            }
        }
    }

    /// <summary>Their size as the cap counts it.</summary>
    public long Bytes
    {
        get
        {
            lock (gate)
            {
                return bytes;
            }
        }
    }

    /// <summary>Routine messages dropped or refused by the size cap since this outbox was opened.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>How long the oldest waiting message has waited; zero when none waits.</summary>
    public TimeSpan OldestAge
    {
        get
        {
            lock (gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                using var command = Command("SELECT stored_at FROM messages ORDER BY seq LIMIT 1");
                return command.ExecuteScalar() is long storedAt
                    ? time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(storedAt)
                    : TimeSpan.Zero;
            }
        }
    }

    /// <summary>
    /// Opens (or creates) the outbox at <paramref name="path"/> with a cap of <paramref name="maxBytes"/>. A damaged
    /// database file is moved aside (<c>outbox.db.damaged-...</c>) with an error in the log, and an empty one started:
    /// the line must not stop because an old queue cannot be read.
    /// </summary>
    public static SqliteOutbox Open(string path, long maxBytes, IAlarmSink alarms, ILogger logger, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ArgumentNullException.ThrowIfNull(alarms);
        ArgumentNullException.ThrowIfNull(logger);
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        time ??= TimeProvider.System;
        var db = SqliteStore.Open(path, "Outbox", "the messages it held are not delivered", CreateSchema, logger, time);
        var outbox = new SqliteOutbox(db, path, maxBytes, alarms, logger, time);
        if (outbox.count > 0)
        {
            logger.LogInformation("Outbox {Path}: {Count} message(s) from before the start wait for delivery", path, outbox.count);
        }

        return outbox;
    }

    /// <summary>
    /// Stores one frame's messages in one transaction, applying the size cap (see the class remarks), and records
    /// <paramref name="pending"/> with them. Throws <see cref="OutboxWriteException"/> when nothing could be stored
    /// (disk full, I/O error), after raising the matching alarm; the next successful write clears it.
    /// </summary>
    public OutboxAppend Append(IReadOnlyList<OutgoingMessage> messages, OutboxPriority priority, PendingFrame? pending = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        long incoming = messages.Sum(SizeOf);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        OutboxAppend result;
        long dropped;
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            long droppedBytes;
            try
            {
                Execute("BEGIN IMMEDIATE");
                (dropped, droppedBytes) = bytes + incoming > maxBytes ? DropRoutine(bytes + incoming - maxBytes) : (0, 0);
                if (bytes - droppedBytes + incoming > maxBytes && priority == OutboxPriority.Routine)
                {
                    result = OutboxAppend.Refused;
                }
                else
                {
                    Insert(messages, lastFrame + 1, priority, now);
                    if (pending is not null)
                    {
                        Remember(pending, now);
                    }

                    result = OutboxAppend.Stored;
                }

                Execute("COMMIT");
            }
            catch (SqliteException e)
            {
                RollBack();
                throw Failed(e, "store a frame's messages");
            }

            count -= dropped;
            bytes -= droppedBytes;
            if (result == OutboxAppend.Stored)
            {
                lastFrame++;
                count += messages.Count;
                bytes += incoming;
            }

            Recovered();
            UpdateOverCap();
        }

        if (result == OutboxAppend.Refused)
        {
            dropped += messages.Count;
        }

        ReportDropped(dropped);
        if (result == OutboxAppend.Stored)
        {
            appended.Writer.TryWrite(true);
        }

        return result;
    }

    /// <summary>Up to <paramref name="max"/> waiting messages after sequence <paramref name="after"/>, oldest first.</summary>
    public IReadOnlyList<OutboxEntry> Read(long after, int max)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            using var command = Command("SELECT seq, topic, payload, content_type, retain, correlation, stored_at, schema FROM messages WHERE seq > $after ORDER BY seq LIMIT $max");
            command.Parameters.AddWithValue("$after", after);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            var entries = new List<OutboxEntry>();
            while (reader.Read())
            {
                var message = new OutgoingMessage(reader.GetString(1), (byte[])reader.GetValue(2), reader.GetString(3), reader.GetInt64(4) != 0,
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(7) ? null : reader.GetString(7));
                entries.Add(new OutboxEntry(reader.GetInt64(0), message, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
            }

            return entries;
        }
    }

    /// <summary>Removes an acknowledged message. Throws <see cref="OutboxWriteException"/> when the database cannot be written.</summary>
    public void Remove(long sequence)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            try
            {
                using var command = Command("DELETE FROM messages WHERE seq = $seq RETURNING size");
                command.Parameters.AddWithValue("$seq", sequence);

                // Gone already when the cap dropped it while it was being published.
                if (command.ExecuteScalar() is long size)
                {
                    count--;
                    bytes -= size;
                }
            }
            catch (SqliteException e)
            {
                throw Failed(e, "remove a delivered message");
            }

            Recovered();
            UpdateOverCap();
        }
    }

    /// <summary>
    /// The id under which <paramref name="frameRef"/> of <paramref name="source"/> was stored, if its source never
    /// recorded it as done; null when it was not, or when the database cannot be read (the frame then gets a new id,
    /// which at worst delivers it twice under two ids).
    /// </summary>
    public string? PendingId(string source, string frameRef)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            try
            {
                using var command = Command("SELECT id FROM pending WHERE source = $source AND frame_ref = $ref");
                command.Parameters.AddWithValue("$source", source);
                command.Parameters.AddWithValue("$ref", frameRef);
                return command.ExecuteScalar() as string;
            }
            catch (SqliteException e)
            {
                logger.LogWarning("Outbox {Path}: cannot look up pending frame {FrameRef} of {Source}: {Reason}", path, frameRef, source, e.Message);
                return null;
            }
        }
    }

    /// <summary>The source has recorded the frame as done. Throws <see cref="OutboxWriteException"/> when the database cannot be written.</summary>
    public void Forget(PendingFrame pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            try
            {
                using var command = Command("DELETE FROM pending WHERE source = $source AND frame_ref = $ref AND id = $id");
                command.Parameters.AddWithValue("$source", pending.Source);
                command.Parameters.AddWithValue("$ref", pending.FrameRef);
                command.Parameters.AddWithValue("$id", pending.Id);
                command.ExecuteNonQuery();
            }
            catch (SqliteException e)
            {
                throw Failed(e, "forget a frame its source has recorded");
            }
        }
    }

    /// <summary>Completes when something was appended since the last call, or after <paramref name="timeout"/>.</summary>
    public async Task WaitForAppendAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation, timer.Token);
        try
        {
            await appended.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            db.Dispose();
        }
    }

    /// <summary>For tests: SQLite's page limit makes the database report a full disk (SQLITE_FULL) without filling one.</summary>
    internal void LimitPages(long maxPages)
    {
        lock (gate)
        {
            Execute(string.Create(CultureInfo.InvariantCulture, $"PRAGMA max_page_count = {maxPages}"));
        }
    }

    internal long PageCount
    {
        get
        {
            lock (gate)
            {
                using var command = Command("PRAGMA page_count");
                return (long)command.ExecuteScalar()!;
            }
        }
    }

    private static void CreateSchema(SqliteConnection db)
    {
        using var schema = db.CreateCommand();

        // AUTOINCREMENT: sequence numbers never come back once the table has emptied, so "after sequence N" stays
        // a correct bookmark for a reader that is still running.
        schema.CommandText = """
            CREATE TABLE IF NOT EXISTS messages (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                frame INTEGER NOT NULL,
                priority INTEGER NOT NULL,
                topic TEXT NOT NULL,
                payload BLOB NOT NULL,
                content_type TEXT NOT NULL,
                retain INTEGER NOT NULL,
                correlation TEXT,
                size INTEGER NOT NULL,
                stored_at INTEGER NOT NULL,
                schema TEXT);
            CREATE INDEX IF NOT EXISTS messages_by_priority ON messages (priority, frame);
            CREATE TABLE IF NOT EXISTS pending (
                source TEXT NOT NULL,
                frame_ref TEXT NOT NULL,
                id TEXT NOT NULL,
                stored_at INTEGER NOT NULL,
                PRIMARY KEY (source, frame_ref)) WITHOUT ROWID;
            """;
        schema.ExecuteNonQuery();
        AddSchemaColumn(db);
    }

    private static long SizeOf(OutgoingMessage m) =>
        m.Payload.Length + 2L * (m.Topic.Length + m.ContentType.Length + (m.CorrelationId?.Length ?? 0) + (m.Schema?.Length ?? 0)) + RowOverhead;

    /// <summary>
    /// An outbox written before messages named their schema lacks the column; its messages go out without the user
    /// property, as they were stored.
    /// </summary>
    private static void AddSchemaColumn(SqliteConnection db)
    {
        using var columns = db.CreateCommand();
        columns.CommandText = "SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name = 'schema'";
        if (Convert.ToInt64(columns.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0)
        {
            return;
        }

        using var alter = db.CreateCommand();
        alter.CommandText = "ALTER TABLE messages ADD COLUMN schema TEXT";
        alter.ExecuteNonQuery();
    }

    /// <summary>Deletes whole routine frames, oldest first, until <paramref name="needed"/> bytes are free or none is left.</summary>
    private (long Messages, long Bytes) DropRoutine(long needed)
    {
        var frames = new List<(long Frame, long Messages, long Bytes)>();
        long freed = 0;
        using (var select = Command("SELECT frame, COUNT(*), SUM(size) FROM messages WHERE priority = $routine GROUP BY frame ORDER BY frame"))
        {
            select.Parameters.AddWithValue("$routine", (int)OutboxPriority.Routine);
            using var reader = select.ExecuteReader();
            while (freed < needed && reader.Read())
            {
                frames.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
                freed += reader.GetInt64(2);
            }
        }

        if (frames.Count == 0)
        {
            return (0, 0);
        }

        using var delete = Command("DELETE FROM messages WHERE priority = $routine AND frame <= $last");
        delete.Parameters.AddWithValue("$routine", (int)OutboxPriority.Routine);
        delete.Parameters.AddWithValue("$last", frames[^1].Frame);
        delete.ExecuteNonQuery();
        return (frames.Sum(f => f.Messages), freed);
    }

    private void Insert(IReadOnlyList<OutgoingMessage> messages, long frame, OutboxPriority priority, long now)
    {
        using var insert = Command("""
            INSERT INTO messages (frame, priority, topic, payload, content_type, retain, correlation, size, stored_at, schema)
            VALUES ($frame, $priority, $topic, $payload, $contentType, $retain, $correlation, $size, $now, $schema)
            """);
        insert.Parameters.AddWithValue("$frame", frame);
        insert.Parameters.AddWithValue("$priority", (int)priority);
        insert.Parameters.AddWithValue("$now", now);
        var topic = insert.Parameters.Add("$topic", SqliteType.Text);
        var payload = insert.Parameters.Add("$payload", SqliteType.Blob);
        var contentType = insert.Parameters.Add("$contentType", SqliteType.Text);
        var retain = insert.Parameters.Add("$retain", SqliteType.Integer);
        var correlation = insert.Parameters.Add("$correlation", SqliteType.Text);
        var size = insert.Parameters.Add("$size", SqliteType.Integer);
        var schema = insert.Parameters.Add("$schema", SqliteType.Text);
        foreach (var message in messages)
        {
            topic.Value = message.Topic;
            payload.Value = message.Payload.ToArray();
            contentType.Value = message.ContentType;
            retain.Value = message.Retain ? 1 : 0;
            correlation.Value = (object?)message.CorrelationId ?? DBNull.Value;
            size.Value = SizeOf(message);
            schema.Value = (object?)message.Schema ?? DBNull.Value;
            insert.ExecuteNonQuery();
        }
    }

    private void Remember(PendingFrame pending, long now)
    {
        using var upsert = Command("INSERT OR REPLACE INTO pending (source, frame_ref, id, stored_at) VALUES ($source, $ref, $id, $now)");
        upsert.Parameters.AddWithValue("$source", pending.Source);
        upsert.Parameters.AddWithValue("$ref", pending.FrameRef);
        upsert.Parameters.AddWithValue("$id", pending.Id);
        upsert.Parameters.AddWithValue("$now", now);
        upsert.ExecuteNonQuery();
    }

    /// <summary>Raises the storage alarm and describes the failure; caller holds the lock.</summary>
    private OutboxWriteException Failed(SqliteException e, string what)
    {
        bool full = e.SqliteErrorCode == SqliteFull;
        string code = full ? AlarmCodes.StorageFull : AlarmCodes.StorageError;
        string message = full
            ? $"disk full: the outbox {path} cannot {what}; inspection waits until there is space"
            : $"the outbox {path} cannot {what} ({e.Message}); inspection waits";
        if (failing is not null && failing != code)
        {
            alarms.Clear(failing);
        }

        failing = code;
        alarms.Raise(code, message);
        return new OutboxWriteException(message, full, e);
    }

    private void Recovered()
    {
        if (failing is { } code)
        {
            failing = null;
            alarms.Clear(code);
        }
    }

    private void UpdateOverCap()
    {
        bool over = bytes > maxBytes;
        if (over == overCap)
        {
            return;
        }

        overCap = over;
        if (over)
        {
            alarms.Raise(AlarmCodes.OutboxOverCap, string.Create(CultureInfo.InvariantCulture,
                $"NG and uncertain messages alone fill the outbox cap of {maxBytes / (1024.0 * 1024.0):0.#} MB: they are kept, new OK verdicts are not stored until the broker takes them"));
        }
        else
        {
            alarms.Clear(AlarmCodes.OutboxOverCap);
        }
    }

    private void ReportDropped(long messages)
    {
        if (messages == 0)
        {
            return;
        }

        long total = Interlocked.Add(ref dropped, messages);
        long unreported = Interlocked.Add(ref droppedUnreported, messages);
        var now = time.GetUtcNow();
        lock (gate)
        {
            if (now - lastDropWarning < DropWarningInterval)
            {
                return;
            }

            lastDropWarning = now;
        }

        Interlocked.Add(ref droppedUnreported, -unreported);
        logger.LogWarning("Outbox at its cap of {CapMegabytes:0.#} MB while the broker does not take messages: {Dropped} OK message(s) dropped, oldest first ({Total} since start); NG and uncertain ones are kept",
            maxBytes / (1024.0 * 1024.0), unreported, total);
    }

    private void RollBack()
    {
        try
        {
            Execute("ROLLBACK");
        }
        catch (SqliteException)
        {
            // SQLite rolls back by itself after some errors (SQLITE_FULL among them); then there is nothing to undo.
        }
    }

    private void Execute(string sql)
    {
        using var command = Command(sql);
        command.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        return command;
    }
}
